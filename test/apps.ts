import { type ChildProcess, fork, spawn } from 'node:child_process';
import path from 'node:path';
import { createTracker } from '@portlab/bittorrent';
import { REPO_ROOT } from '@portlab/config';
import { type TempLab, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';

/** The `portlab` command, built (packages/cli/dist). */
export const CLI = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

export type AppName = 'web' | 'mail' | 'files' | 'peer' | 'dns' | 'chain';

/** One app of the lab, as the supervisor runs it: apps/<name>/dist/main.js, its own process. */
export interface RunningApp {
  name: AppName;
  child: ChildProcess;
  /** What the app wrote to stdout and stderr, for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts an app of `lab` (forked with an IPC channel, as `portlab up` does) and resolves once it
 * reports `ready` with every service listening; rejects with its output if one failed or the app
 * exits first.
 */
export async function startApp(lab: TempLab, name: AppName): Promise<RunningApp> {
  const main = path.join(REPO_ROOT, 'apps', name, 'dist', 'main.js');
  const child = fork(main, [], { env: lab.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Every service reports its state before `ready`: one that failed (its port taken by another
  // test in the meantime) would leave a client talking to whatever holds that port.
  const failed: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string; service?: string; state?: string; error?: string }) => {
      if (m.type === 'service' && m.state === 'failed') failed.push(`${m.service}: ${m.error ?? 'failed'}`);
      if (m.type !== 'ready') return;
      if (failed.length === 0) resolve();
      else {
        child.kill('SIGTERM'); // never leave an app running behind a test that failed to start it
        reject(new Error(`apps/${name} could not start ${failed.join('; ')}\n${output}`));
      }
    });
    void exited.then(() => reject(new Error(`apps/${name} exited before it was ready:\n${output}`)));
  });
  return {
    name,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A `portlab` command running in a lab's environment. */
export interface CliRun {
  child: ChildProcess;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Its exit code (null when a signal ended it). */
  exit: Promise<number | null>;
}

/** Starts `portlab ARGS…` with the lab's environment, in the lab's folder. */
export function runCli(lab: TempLab, ...args: string[]): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { env: lab.env, cwd: lab.dir });
  let output = '';
  const keep = (d: Buffer) => {
    output += d;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output, exit: new Promise((resolve) => child.once('exit', resolve)) };
}

/** `portlab up` for a lab: the real supervisor and apps, once it says every port is listening. */
export interface RunningLab extends CliRun {
  /** Ctrl-C, as a teacher stops it; resolves once the supervisor has exited. */
  stop(): Promise<void>;
}

export async function startLab(lab: TempLab, ...args: string[]): Promise<RunningLab> {
  const up = runCli(lab, 'up', ...args);
  const stop = async () => {
    if (up.child.exitCode === null && up.child.signalCode === null) up.child.kill('SIGINT');
    await up.exit;
  };
  try {
    // "all services listening (14) in …", or "13 of 14 services listening …" when a port was taken;
    // then its last line, "Live transcripts: … Stop all: Ctrl-C": the lines between (Home page:,
    // Students: type …) are written by other write()s, which may reach this pipe in a later read
    // (CI saw the table without the Home page line).
    await waitFor(() => /Stop all: Ctrl-C/.test(up.output()) || up.child.exitCode !== null, {
      timeoutMs: 100_000,
      what: `portlab up to say its services are listening:\n${up.output()}`,
    });
    if (!/all services listening/.test(up.output())) throw new Error(`portlab up:\n${up.output()}`);
  } catch (err) {
    await stop(); // never leave a lab running behind a test that failed to start it
    throw err;
  }
  return { ...up, stop };
}

/** The lab's BitTorrent tracker alone, in this process: on the lab's tracker port, in its transcripts. */
export async function startTracker(lab: TempLab): Promise<ReturnType<typeof createTracker>> {
  const tracker = createTracker({
    transcript: new Transcript('tracker', lab.ports.tracker, { logDir: path.join(lab.dataDir, 'log') }),
  });
  await new Promise<void>((resolve) => tracker.server.listen(lab.ports.tracker, '127.0.0.1', resolve));
  return tracker;
}
