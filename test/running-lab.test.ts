/**
 * A lab started with its own data dir (`PORTLAB_DATA_DIR=/some/dir npm start`), and commands typed
 * in another terminal without that variable: they find the running lab and say so, instead of
 * reading the empty default data dir and reporting that nothing listens.
 *
 * Every lab here is a real `portlab up` on free ports (tempLab), and every process gets the same
 * throw-away XDG_RUNTIME_DIR, where running labs record themselves: these labs are invisible to the
 * user's own, and to other tests. The commands run without PORTLAB_* variables, so their own data
 * dir is this repository's var/, where no lab must be running for the test to mean anything.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { canConnect, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './apps.js';

const bin = CLI;
const runtimeDir = mkdtempSync(path.join(tmpdir(), 'portlab-runtime-'));
const registry = path.join(runtimeDir, 'portlab');

/** A terminal where nobody set PORTLAB_DATA_DIR or PORTLAB_CONFIG. */
const plainEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('PORTLAB_')),
);
plainEnv.XDG_RUNTIME_DIR = runtimeDir;
plainEnv.NO_COLOR = '1';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function portlab(args: string[], env: NodeJS.ProcessEnv = plainEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Lab {
  temp: TempLab;
  /** Given in the environment, as `PORTLAB_DATA_DIR=… npm start` does. */
  dataDir: string;
  up: ChildProcess;
  output: string;
}

/** `PORTLAB_DATA_DIR=<temp> portlab up` on the free ports of a tempLab, until every port was tried. */
async function startLab(): Promise<Lab> {
  const temp = await tempLab();
  const dataDir = path.join(temp.dir, 'elsewhere');
  const up = spawn(process.execPath, [bin, 'up'], {
    env: { ...temp.env, PORTLAB_DATA_DIR: dataDir, XDG_RUNTIME_DIR: runtimeDir },
  });
  const lab: Lab = { temp, dataDir, up, output: '' };
  const collect = (chunk: Buffer) => {
    lab.output += chunk;
  };
  up.stdout!.on('data', collect);
  up.stderr!.on('data', collect);
  await waitFor(() => /services listening/.test(lab.output), {
    timeoutMs: 100_000, // as startLab: a hang bound on a busy machine
    what: `portlab up to start; it printed:\n${lab.output}`,
  });
  return lab;
}

async function stopLab(lab: Lab): Promise<void> {
  if (lab.up.exitCode === null) {
    const exited = new Promise((resolve) => lab.up.once('exit', resolve));
    lab.up.kill('SIGINT');
    await exited;
  }
  lab.temp.cleanup();
}

/** The pid of a process that has exited: what a lab killed with SIGKILL leaves in its record. */
function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve) => child.once('exit', () => resolve(child.pid!)));
}

describe('a command typed without the data dir of the running lab', () => {
  let first: Lab;
  let ownLabRuns = false;

  beforeAll(async () => {
    ownLabRuns = await new Promise<boolean>((resolve) => {
      const socket = connect(path.join(REPO_ROOT, 'var', 'run', 'portlab.sock'), () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    first = await startLab();
  });

  afterAll(async () => {
    if (first) await stopLab(first);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  it('finds the one running lab, says which, and reads its ports', async (ctx) => {
    if (ownLabRuns) ctx.skip('a lab runs for this repository’s var/: commands rightly use that one');
    // A supervisor killed without its Ctrl-C leaves its record behind: it must not count.
    const stale = path.join(registry, '999999999.json');
    mkdirSync(registry, { recursive: true });
    writeFileSync(
      stale,
      JSON.stringify({ pid: await deadPid(), dataDir: '/nowhere', configFile: null, host: '127.0.0.1' }),
    );

    const result = await portlab(['ports', '--json']);
    expect(result.stderr).toContain(`using the one running for ${first.dataDir}`);
    const http = (JSON.parse(result.stdout) as { name: string; port: number; listening: boolean }[]).find(
      (s) => s.name === 'http',
    );
    expect(http).toMatchObject({ port: first.temp.ports.http, listening: true });
    expect(readdirSync(registry)).not.toContain('999999999.json');
  });

  it('stops and starts a service of the running lab', async (ctx) => {
    if (ownLabRuns) ctx.skip('a lab runs for this repository’s var/: commands rightly use that one');
    const stop = await portlab(['stop', 'https']);
    expect(stop.stdout).toContain('https stopped');
    expect(await canConnect(first.temp.ports.https)).toBe(false);
    const start = await portlab(['start', 'https']);
    expect(start.stdout).toContain(`https listening on port ${first.temp.ports.https}`);
    expect(await canConnect(first.temp.ports.https)).toBe(true);
  });

  it('warns when the data dir it was given has no lab, yet the lab’s ports answer', async () => {
    const empty = path.join(first.temp.dir, 'empty');
    mkdirSync(empty);
    const result = await portlab(['ports'], {
      ...plainEnv,
      PORTLAB_CONFIG: first.temp.configFile,
      PORTLAB_DATA_DIR: empty,
    });
    expect(result.stderr).toContain(`no lab runs for the data dir ${empty}, yet its ports answer`);
    expect(result.stderr).toContain(`PORTLAB_DATA_DIR=${first.dataDir} npx portlab ports`);
  });

  it('asks which one when two labs run, and names both', async (ctx) => {
    if (ownLabRuns) ctx.skip('a lab runs for this repository’s var/: commands rightly use that one');
    const second = await startLab();
    try {
      // `ports`, not a lab demo: on a regression, a demo would start a lab of its own on the default ports.
      const result = await portlab(['ports']);
      expect(result.stderr).toContain('2 run elsewhere. Say which one:');
      for (const lab of [first, second]) {
        expect(result.stderr).toContain(
          `PORTLAB_DATA_DIR=${lab.dataDir} PORTLAB_CONFIG=${lab.temp.configFile} npx portlab ports`,
        );
      }
      expect(result.code).toBe(2);
    } finally {
      await stopLab(second);
    }
    // Its record went with it: one lab runs again, and is found.
    expect(readdirSync(registry)).toEqual([`${first.up.pid}.json`]);
  }, 120_000);
});
