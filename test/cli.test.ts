import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function portlab(lab: TempLab, args: string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...lab.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? '');
  });
}

/** A long-running `portlab` command whose output we can wait on. */
class Running {
  out = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(lab: TempLab, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [bin, ...args], { env: { ...lab.env, ...env } });
    this.child.stdout!.on('data', (d) => {
      this.out += d;
    });
    this.child.stderr!.on('data', (d) => {
      this.out += d;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
  waitFor(pattern: RegExp, what = String(pattern)): Promise<RegExpMatchArray> {
    return waitFor(() => this.out.match(pattern) ?? undefined, {
      what: `${what} in:\n${this.out}`,
      // A bound on a hang: `portlab up` took 10-18 s, and once over 60, beside two busy loops.
      timeoutMs: 100_000,
    });
  }
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

const labs: TempLab[] = [];
const running: Running[] = [];
async function newLab(extra = {}): Promise<TempLab> {
  const lab = await tempLab(extra);
  labs.push(lab);
  return lab;
}
function start(lab: TempLab, args = ['up'], env: NodeJS.ProcessEnv = {}): Running {
  const r = new Running(lab, args, env);
  running.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
afterAll(() => {
  for (const lab of labs) lab.cleanup();
});

describe('portlab, bad input', () => {
  it('stops on a bad config with the key, the reason and exit code 2', async () => {
    const lab = await newLab();
    writeFileSync(lab.configFile, JSON.stringify({ dataDir: lab.dataDir, portOfset: 12 }));
    const r = await portlab(lab, ['ports']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad config: .*portlab\.config\.json: portOfset: unknown key/);
    const up = await portlab(lab, ['up']);
    expect(up.code).toBe(2);
    expect(existsSync(path.join(lab.dataDir, 'run'))).toBe(false); // nothing started
  });

  it('stops on a bad environment override, naming the variable', async () => {
    const lab = await newLab();
    const r = await portlab(lab, ['ports'], '', { PORTLAB_PORT_OFFSET: 'eight thousand' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PORTLAB_PORT_OFFSET/);
  });

  it('refuses a non-loopback address while demo passwords are in use', async () => {
    const lab = await newLab();
    const r = await portlab(lab, ['up'], '', { PORTLAB_HOST: '0.0.0.0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0: .*alice, bob.*--allow-demo-passwords/s);
  });

  it('says portlab is not running when stop is used without up', async () => {
    const lab = await newLab();
    const r = await portlab(lab, ['stop', 'web']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not running.*npm start/);
  });

  it('has --help with examples on every command', async () => {
    const lab = await newLab();
    for (const args of [
      ['--help'],
      ['up', '--help'],
      ['probe', '--help'],
      ['watch', '--help'],
      ['stop', '--help'],
    ]) {
      const r = await portlab(lab, args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/Examples:/);
    }
  });
});

describe('portlab up, the supervisor', () => {
  let lab: TempLab;
  let up: Running;
  beforeAll(async () => {
    lab = await newLab();
  });
  // This supervisor lives across the tests of this block (not stopped by afterEach).
  afterAll(async () => {
    await up?.stop();
  });

  it('starts every app, prints the table and the start-up time, and serves', async () => {
    up = new Running(lab, ['up']);
    const [, seconds] = await up.waitFor(/all services listening \(\d+\) in ([\d.]+) s/);
    expect(Number(seconds)).toBeGreaterThan(0);
    // Its last line: the Home page line before it may come in a later read of the pipe.
    await up.waitFor(/Stop all: Ctrl-C/);
    expect(up.out).toMatch(new RegExp(`http\\s+web\\s+HTTP\\s+${lab.ports.http}\\s+80\\s+listening`));
    expect(up.out).toContain(`Home page: http://127.0.0.1:${lab.ports.http}/`);
    expect(await canConnect(lab.ports.http)).toBe(true);
    expect(await canConnect(lab.ports.https)).toBe(true);
    const ports = await portlab(lab, ['ports']);
    expect(ports.stdout).toMatch(new RegExp(`http\\s+HTTP\\s+${lab.ports.http}\\s+80\\s+none\\s+yes`));
    const users = readFileSync(path.join(lab.dataDir, 'users.json'), 'utf8');
    expect(users).toContain('"alice"');
    expect(users).not.toContain('wonderland');

    // A second supervisor on the same data dir would fight the first.
    const second = await portlab(lab, ['up']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already running/);

    // stop/start an app: stopped on purpose means not restarted.
    const stop = await portlab(lab, ['stop', 'web']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/web stopped/);
    expect(await canConnect(lab.ports.http)).toBe(false);
    await new Promise((r) => setTimeout(r, 800)); // longer than the first restart delay
    expect(await canConnect(lab.ports.http)).toBe(false);
    expect((await portlab(lab, ['ports'])).stdout).toMatch(
      new RegExp(`http\\s+HTTP\\s+${lab.ports.http}\\s+80\\s+none\\s+no`),
    );
    const startWeb = await portlab(lab, ['start', 'web']);
    expect(startWeb.code).toBe(0);
    expect(await canConnect(lab.ports.http)).toBe(true);

    // stop/start one service inside an app: the other goes on.
    expect((await portlab(lab, ['stop', 'https'])).stdout).toMatch(/https stopped/);
    expect(await canConnect(lab.ports.https)).toBe(false);
    expect(await canConnect(lab.ports.http)).toBe(true);
    expect((await portlab(lab, ['start', 'https'])).stdout).toMatch(
      new RegExp(`https listening on port ${lab.ports.https}`),
    );
    expect(await canConnect(lab.ports.https)).toBe(true);

    // An unknown name gets the list of valid ones.
    const unknown = await portlab(lab, ['stop', 'gopher']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown service 'gopher'\. Valid names: web, mail, files, peer, (.+, )?http, https, smtp/,
    );
  });

  it('answers junk on its control socket with an error, and goes on', async () => {
    for (const junk of ['null', '{"command":"reboot"}', 'not json at all']) {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = createConnection(path.join(lab.dataDir, 'run', 'portlab.sock'), () =>
          socket.write(`${junk}\n`),
        );
        let text = '';
        socket.on('data', (d) => {
          text += d;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(JSON.parse(reply)).toEqual({ ok: false, message: 'not a control request' });
    }
    const status = await portlab(lab, ['stop', 'gopher']); // the supervisor still answers
    expect(status.stderr).toMatch(/Valid names/);
  });

  it('restarts an app that crashes, and says so', async () => {
    const pid = JSON.parse(readFileSync(path.join(lab.dataDir, 'run', 'web.json'), 'utf8')).pid as number;
    process.kill(pid, 'SIGKILL');
    await up.waitFor(/web crashed \(killed by SIGKILL\); restarting it/);
    await up.waitFor(/web restarted \(pid \d+\)/);
    await waitFor(() => canConnect(lab.ports.http), { what: 'http back after the restart' });
    const newPid = JSON.parse(readFileSync(path.join(lab.dataDir, 'run', 'web.json'), 'utf8')).pid as number;
    expect(newPid).not.toBe(pid);
  });

  it('probes the running lab and names what it finds', async () => {
    const r = await portlab(lab, ['probe', '127.0.0.1', '--ports', `${lab.ports.http},${lab.ports.https}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${lab.ports.http}\\s+open\\s+HTTP\\s+HTTP/1.1 200`));
    expect(r.stdout).toMatch(new RegExp(`${lab.ports.https}\\s+open\\s+HTTP\\s+yes`));
  });

  it('follows the transcript live with watch', async () => {
    const watcher = start(lab, ['watch', 'http']);
    await watcher.waitFor(/Following http/);
    await fetch(`http://127.0.0.1:${lab.ports.http}/healthz?watched`);
    await watcher.waitFor(/http:\d+ \S+ C: GET \/healthz\?watched HTTP\/1\.1/);
    await watcher.waitFor(/S: HTTP\/1\.1 200 OK/);
    expect(await watcher.stop()).toBe(0);
  });

  it('stops everything cleanly on Ctrl-C', async () => {
    expect(await up.stop()).toBe(0);
    expect(up.out).toMatch(/Stopped\./);
    expect(await canConnect(lab.ports.http)).toBe(false);
    expect(await canConnect(lab.ports.https)).toBe(false);
    expect(existsSync(path.join(lab.dataDir, 'run', 'portlab.sock'))).toBe(false);
  });
});

describe('portlab up with a port already in use', () => {
  it('names the service and the port, and starts the others', async () => {
    const lab = await newLab();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(lab.ports.http, '127.0.0.1', r));
    try {
      const up = start(lab);
      const [, listening, all] = await up.waitFor(/(\d+) of (\d+) services listening/);
      expect(Number(listening)).toBe(Number(all) - 1);
      expect(up.out).toContain(
        `http cannot listen on 127.0.0.1:${lab.ports.http}: port ${lab.ports.http} is already in use`,
      );
      expect(up.out).toMatch(/https\s+web\s+HTTP\s+\d+\s+443\s+listening/);
      expect(await canConnect(lab.ports.https)).toBe(true);
    } finally {
      blocker.close();
    }
  });
});

describe('portlab user add', () => {
  it('adds an account from stdin, hashed, and refuses a bad name', async () => {
    const lab = await newLab();
    const r = await portlab(lab, ['user', 'add', 'carol'], 'correct horse\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Added carol@lab\.test/);
    const users = readFileSync(path.join(lab.dataDir, 'users.json'), 'utf8');
    expect(users).toContain('"carol"');
    expect(users).not.toContain('correct horse');
    const bad = await portlab(lab, ['user', 'add', '../root'], 'secret\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid user name/);
  });
});

describe('watch formatting', () => {
  it('shows connections, and flags credentials', async () => {
    const lab = await newLab();
    const watcher = start(lab, ['watch']);
    await watcher.waitFor(/Following every service/);
    const t = new Transcript('smtp', lab.ports.smtp, { logDir: path.join(lab.dataDir, 'log') });
    const s = t.accepted({
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: lab.ports.smtp,
    });
    s.client('AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=', ['credentials']);
    t.flush();
    await watcher.waitFor(/connected\s+127\.0\.0\.1:40000 -> 127\.0\.0\.1:\d+/);
    await watcher.waitFor(/C: AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ= \[credentials\]/);
    // A login by password, then (the chat app) an access token acting for an account.
    s.login('alice', true);
    s.login('alice', true, 'access-token');
    t.flush();
    await watcher.waitFor(/login as alice: ok/);
    await watcher.waitFor(/acting for alice: access token/);
  });
});
