import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import type { TempLab } from '@portlab/testkit';

/** The `portlab` command, built (packages/cli/dist). */
export const CLI = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

export type AppName = 'web' | 'mail' | 'files' | 'peer';

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
 * reports `ready` (every port tried); rejects with its output if it exits first.
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
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
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
