import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig, REPO_ROOT, UserStore } from '@portlab/config';
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

/** Class accounts for the temp lab (users.json, with the demo accounts), as `portlab class create` makes them. */
export async function addAccounts(lab: TempLab, accounts: Record<string, string>): Promise<void> {
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure();
  for (const [name, password] of Object.entries(accounts)) await users.set(name, password);
}

/**
 * `portlab check LAB --server 127.0.0.1:HTTP --user USER` in its own process, as on a student's PC,
 * the password typed on stdin's first line.
 */
export function remoteCheck(
  lab: TempLab,
  labId: string,
  user: string,
  password: string,
  server = `127.0.0.1:${lab.ports.http}`,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, 'check', labId, '--server', server, '--user', user, '--lang', 'en'],
      { env: { ...lab.env, PORTLAB_PASSWORD: '' }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    child.stdin!.end(`${password}\n`);
  });
}
