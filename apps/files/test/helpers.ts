import { type ChildProcess, execFile, fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigFile } from '@portlab/config';
import { freePortRange, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { Client } from 'basic-ftp';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface FilesApp {
  lab: TempLab;
  ftp: number;
  ftps: number;
  passive: { from: number; to: number };
  /** $DATA/files/<user> */
  home(user: string): string;
  stop(): Promise<void>;
}

/** Starts the real files app (dist/main.js) in its own temp lab; resolves once it says it is ready. */
export async function startFiles(extra: Partial<ConfigFile> = {}, passivePorts = 20): Promise<FilesApp> {
  const passive = await freePortRange(passivePorts);
  const lab = await tempLab({ ...extra, files: { passivePorts: passive, ...extra.files } });
  const child: ChildProcess = fork(main, [], { env: lab.env, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`files app exited (${code}): ${output}`)));
  });
  return {
    lab,
    ftp: lab.ports.ftp,
    ftps: lab.ports.ftps,
    passive,
    home: (user) => path.join(lab.dataDir, 'files', user),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      lab.cleanup();
      passive.release();
    },
  };
}

export interface LoginOptions {
  user?: string;
  password?: string;
  /** true: AUTH TLS on the ftp port; 'implicit': TLS from the first byte on the ftps port. */
  secure?: boolean | 'implicit';
}

/** A basic-ftp client logged in (alice by default). The lab certificate is self-signed. */
export async function login(app: FilesApp, options: LoginOptions = {}): Promise<Client> {
  const client = new Client(10_000);
  await client
    .access({
      host: '127.0.0.1',
      port: options.secure === 'implicit' ? app.ftps : app.ftp,
      user: options.user ?? 'alice',
      password: options.password ?? 'wonderland',
      secure: options.secure ?? false,
      secureOptions: { rejectUnauthorized: false },
    })
    .catch((err: unknown) => {
      client.close(); // basic-ftp leaves the connection open after a refused login
      throw err;
    });
  return client;
}

/** Runs a command-line client; resolves with its exit code and output, as text and as bytes (never rejects). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; bytes: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'buffer',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), bytes: stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** Whether a Debian-packaged client is installed (lftp is installed by .ci/run in CI). */
export function installed(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(path.join(dir, command)));
}

/** The transcript events of a service. */
export function transcript(
  app: FilesApp,
  service = 'ftp',
): { dir?: string; line?: string; flags?: string[]; session?: string }[] {
  const file = path.join(app.lab.dataDir, 'log', `${service}.ndjson`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Files whose name says they are uploads in progress, anywhere under a folder. */
export function leftoverUploads(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.includes('.portlab-upload-'),
  );
}

/** A bare FTP control connection, for what a polite client never sends. */
export class RawFtp {
  private text = '';
  private readonly replies: string[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      // A reply ends with a line "xyz text"; "xyz-text" lines continue it (RFC 959 §4.2).
      for (let m = /^(\d{3}) [^\n]*\r?\n/m.exec(this.text); m; m = /^(\d{3}) [^\n]*\r?\n/m.exec(this.text)) {
        const end = m.index + m[0].length;
        this.replies.push(this.text.slice(0, end).trimEnd());
        this.text = this.text.slice(end);
      }
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.waiter?.());
  }

  static async connect(port: number): Promise<RawFtp> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawFtp(socket);
  }

  /** The next reply, or '' once the server closed the connection. */
  async reply(): Promise<string> {
    while (this.replies.length === 0 && !this.socket.destroyed && !this.socket.readableEnded) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.replies.shift() ?? '';
  }

  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async login(user = 'alice', password = 'wonderland'): Promise<void> {
    await this.reply(); // 220
    await this.send(`USER ${user}`);
    const done = await this.send(`PASS ${password}`);
    if (!done.startsWith('230')) throw new Error(`login failed: ${done}`);
  }

  /** EPSV, then the data connection to the port it names. */
  async passive(): Promise<Socket> {
    const reply = await this.send('EPSV');
    const port = /\(\|\|\|(\d+)\|\)/.exec(reply);
    if (!port) throw new Error(`EPSV refused: ${reply}`);
    const data = connect(Number(port[1]), '127.0.0.1');
    await new Promise((resolve, reject) => data.once('connect', resolve).once('error', reject));
    return data;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Resolves once the server end of `socket` (a connection to 127.0.0.1) has read every byte sent so
 * far: its receive queue in /proc/net/tcp is empty. An event to wait for instead of a sleep, when
 * a test needs the server to have *read* a line whose effect shows only later (ABOR during STOR).
 */
export async function readByServer(socket: Socket): Promise<void> {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const server = `0100007F:${hex(socket.remotePort!)}`;
  const client = `0100007F:${hex(socket.localPort!)}`;
  await waitFor(
    () => {
      const row = readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find((fields) => fields[1] === server && fields[2] === client);
      if (!row) throw new Error(`no server end for ${client} -> ${server} in /proc/net/tcp`);
      return row[4]!.split(':')[1] === '00000000';
    },
    { what: 'the server to read what was sent' },
  );
}
