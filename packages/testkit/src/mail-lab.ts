/**
 * One student's mail server, alone (issue 18): the real mail app (apps/mail/dist/main.js) with its
 * own data dir, address and mail domain, as `portlab up` would run it on that student's PC. Used
 * by the relay's classroom test (one per network namespace) and `npm run bench -- relay`.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';

const MAIL_MAIN = path.join(REPO_ROOT, 'apps', 'mail', 'dist', 'main.js');

export interface MailAppOptions {
  /** A folder of its own: the data dir and the config file go in it. */
  dir: string;
  host: string;
  domain: string;
  /** `mail.relay` of the config (dns, retry, maxAgeSeconds, …). */
  relay: Record<string, unknown>;
  /** Other keys of the config (portOffset, ports, …). */
  extra?: Record<string, unknown>;
  /** How to start a process: default `spawn`; a classroom passes `(cmd, args, o) => net.spawn(pc, cmd, args, o)`. */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

export interface MailApp {
  dataDir: string;
  configFile: string;
  process: ChildProcess;
  /** Starts the app (again) on the same data; resolves when every port listens. */
  start(): Promise<void>;
  /** SIGTERM (a clean stop) or SIGKILL (kill -9); resolves once it exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * The environment of a lab whose config file alone decides: PORTLAB_CONFIG set, the PORTLAB_*
 * variables that would override the file's dataDir, host, address, ports or class DNS removed.
 */
export function configFileEnv(configFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORTLAB_CONFIG: configFile, NO_COLOR: '1' };
  for (const name of [
    'PORTLAB_DATA_DIR',
    'PORTLAB_HOST',
    'PORTLAB_PUBLIC_ADDRESS',
    'PORTLAB_PORT_OFFSET',
    'PORTLAB_CLASS_DNS',
  ])
    delete env[name];
  return env;
}

export async function startMailApp(options: MailAppOptions): Promise<MailApp> {
  const dataDir = path.join(options.dir, 'var');
  const configFile = path.join(options.dir, 'portlab.config.json');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir,
      host: options.host,
      domain: options.domain,
      // The demo accounts alice and bob on a LAN address: no one else is on this network.
      allowDemoPasswords: true,
      ...options.extra,
      mail: { relay: options.relay },
    }),
  );
  const env = configFileEnv(configFile);
  const run = options.spawn ?? spawn;
  const app: MailApp = {
    dataDir,
    configFile,
    process: null as unknown as ChildProcess,
    async start() {
      let output = '';
      const child = run(process.execPath, [MAIL_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      this.process = child;
      child.stdout?.on('data', (d) => {
        output += d;
      });
      child.stderr?.on('data', (d) => {
        output += d;
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the mail app of ${options.domain}: not ready after 60 s\n${output}`)),
          60_000,
        );
        child.on('message', (m: { type?: string }) => {
          if (m.type !== 'ready') return;
          clearTimeout(timer);
          resolve();
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(
            new Error(`the mail app of ${options.domain} exited (${code}) before it was ready\n${output}`),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      const child = this.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
  await app.start();
  return app;
}

/** Each message of a user's INBOX (Maildir new/ and cur/) with its Message-ID (from its header), repeats included. */
export function maildirMessages(dataDir: string, user: string): { messageId: string; text: string }[] {
  const found: { messageId: string; text: string }[] = [];
  for (const sub of ['new', 'cur']) {
    const folder = path.join(dataDir, 'mail', user, sub);
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const text = readFileSync(path.join(folder, name), 'latin1');
      const header = text.slice(0, Math.max(0, text.search(/\r?\n\r?\n/)));
      const messageId = /^message-id:\s*(<[^>]*>)/im.exec(header)?.[1] ?? '';
      found.push({ messageId, text });
    }
  }
  return found;
}
