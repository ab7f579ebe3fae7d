import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig, REPO_ROOT } from '@portlab/config';
import type { TempLab } from '@portlab/testkit';

const bin = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

export interface Result {
  code: number;
  out: string;
}

/** Runs `portlab ARGS` against the temp lab, as a student would; stdout and stderr together. */
export function portlab(lab: TempLab, args: string[], timeoutMs = 110_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: lab.env, timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

export function configOf(lab: TempLab) {
  return loadConfig({ file: lab.configFile, env: {} });
}

/** `portlab up` for the temp lab, running until `stop()`: the demos then use it as a running lab. */
export async function startLab(lab: TempLab): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [bin, 'up'], { env: lab.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (/services listening/.test(out)) resolve();
    });
    child.once('exit', () => reject(new Error(`portlab up exited: ${out}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}
