/**
 * The running lab a scripted demo talks to. A lab never starts servers of its own: it uses the
 * supervisor (`portlab up`) that already runs for this data dir, or starts one as a child process
 * and stops it at the end. Stopping and starting a service is done the way a student does it, by
 * running `portlab stop NAME` / `portlab start NAME`, so the demo shows the command it typed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { type LabConfig, labConnectAddress, REPO_ROOT, type ServiceName } from '@portlab/config';
import type { Printer } from './output.js';

/** The `portlab` command of this repository (run with this Node, whatever the PATH holds). */
export const PORTLAB_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

/** How long `portlab up` may take before a lab gives up waiting for it. */
const UP_TIMEOUT_MS = 60_000;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabServices {
  private child: ChildProcess | null = null;

  constructor(
    readonly config: LabConfig,
    private readonly out: Printer,
  ) {}

  /** Uses the running supervisor, or starts one and waits until every port was tried. */
  async ensureRunning(): Promise<void> {
    if (await supervisorAnswers(this.config)) {
      this.out.say({
        fr: `portlab tourne déjà pour ${this.config.dataDir} : la démo utilise ces serveurs.`,
        en: `portlab is already running for ${this.config.dataDir}: the demo uses those servers.`,
      });
      return;
    }
    this.out.command('portlab up');
    const child = spawn(process.execPath, [PORTLAB_BIN, 'up'], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`portlab up did not start within ${UP_TIMEOUT_MS / 1000} s:\n${output}`)),
        UP_TIMEOUT_MS,
      );
      const onData = () => {
        if (/services listening/.test(output)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`portlab up exited (code ${code}) before the lab was ready:\n${output}`));
      });
    });
    const summary = output.split('\n').find((l) => /services listening/.test(l));
    if (summary) this.out.say(summary.trim(), 'dim');
  }

  /** `portlab stop NAME`: an app (files, peer…) or one service (ftp, imap…). */
  stop(name: string): Promise<CommandResult> {
    return this.portlab(['stop', name]);
  }

  start(name: string): Promise<CommandResult> {
    return this.portlab(['start', name]);
  }

  /** Runs a `portlab` command, shows it as typed and prints what it answered. */
  async portlab(args: string[]): Promise<CommandResult> {
    this.out.command(`portlab ${args.join(' ')}`);
    const result = await runPortlab(args);
    for (const line of `${result.stdout}${result.stderr}`.trimEnd().split('\n')) {
      if (line) this.out.say(`  ${line}`);
    }
    return result;
  }

  /** Is something accepting connections on the service's port now? */
  listening(service: ServiceName): Promise<boolean> {
    return canConnect({ host: labConnectAddress(this.config), port: this.config.portOf(service) });
  }

  /** Stops the supervisor this lab started (never one that was already running). */
  async close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
}

export function runPortlab(args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PORTLAB_BIN, ...args], { env: process.env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The supervisor listens on $DATA/run/portlab.sock (packages/cli/src/control.ts). */
function supervisorAnswers(config: LabConfig): Promise<boolean> {
  const socketPath = path.join(config.paths.run, 'portlab.sock');
  return existsSync(socketPath) ? canConnect({ path: socketPath }) : Promise.resolve(false);
}

function canConnect(target: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target as { path: string }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
