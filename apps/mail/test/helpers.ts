import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { ConfigFile } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface MailLab {
  lab: TempLab;
  app: ChildProcess;
  /** Starts the app again on the same data (after a crash). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Files of a user's folder (INBOX by default), new/ and cur/. */
  files(user: string, folder?: string): string[];
  /** What the app printed on its console so far (its stdout), shown as it comes as well. */
  readonly output: string;
}

/** The real mail app as a child process, on free ports, with its own data dir. */
export async function startMailLab(extra: Partial<ConfigFile> = {}): Promise<MailLab> {
  const lab = await tempLab(extra);
  let output = '';
  const printed = (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  };
  const mailLab: MailLab = {
    lab,
    app: await launch(lab, printed),
    get output() {
      return output;
    },
    async restart() {
      this.app = await launch(lab, printed);
    },
    async stop() {
      if (this.app.exitCode === null && this.app.signalCode === null) {
        const exited = new Promise((resolve) => this.app.once('exit', resolve));
        this.app.kill('SIGTERM');
        await exited;
      }
      lab.cleanup();
    },
    files(user, folder = 'INBOX') {
      const dir = path.join(lab.dataDir, 'mail', user, folder === 'INBOX' ? '' : `.${folder}`);
      return ['new', 'cur'].flatMap((sub) => {
        try {
          return readdirSync(path.join(dir, sub)).map((f) => path.join(dir, sub, f));
        } catch {
          return [];
        }
      });
    },
  };
  return mailLab;
}

async function launch(lab: TempLab, printed: (chunk: Buffer) => void): Promise<ChildProcess> {
  const app = fork(main, [], { env: lab.env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  app.stdout?.on('data', printed);
  await new Promise<void>((resolve, reject) => {
    app.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the mail app exited with ${code} before it was ready`)));
  });
  return app;
}

export function labCa(lab: TempLab): Buffer {
  return readFileSync(path.join(lab.dataDir, 'tls', 'cert.pem'));
}

/**
 * A client typing lines, as `nc` does: `send` writes a line, `reply` waits for the server's next
 * SMTP reply (all its lines), `line` for one line (POP3).
 */
export class LineClient {
  private buffer = '';
  private lines: string[] = [];
  private waiting: (() => void) | null = null;
  closed = false;

  private constructor(public socket: Socket) {
    this.attach(socket);
  }

  static async connect(port: number, options: { tls?: boolean; host?: string } = {}): Promise<LineClient> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.tls
      ? tlsConnect({ port, host, rejectUnauthorized: false })
      : tcpConnect(port, host);
    await new Promise((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    return new LineClient(socket);
  }

  /** Switches this connection to TLS (after STARTTLS / STLS was answered). */
  async startTls(): Promise<void> {
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  send(text: string, ending = '\r\n'): void {
    this.socket.write(text + ending);
  }

  async line(): Promise<string> {
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed while waiting for a line');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
    return this.lines.shift()!;
  }

  /** An SMTP reply: lines "250-..." up to the last one, "250 ...". */
  async reply(): Promise<string> {
    const lines = [await this.line()];
    while (/^\d{3}-/.test(lines.at(-1)!)) lines.push(await this.line());
    return lines.join('\n');
  }

  /** A POP3 multi-line response after its +OK line, up to the ".", un-byte-stuffed. */
  async multiline(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.line(); line !== '.'; line = await this.line()) {
      lines.push(line.startsWith('..') ? line.slice(1) : line);
    }
    return lines;
  }

  /** Sends a command and returns the reply. */
  async command(text: string, ending = '\r\n'): Promise<string> {
    this.send(text, ending);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      const parts = this.buffer.split('\r\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }
}

/** Reads the transcript events of a service written so far. */
export function transcriptOf(
  lab: TempLab,
  service: string,
): { session: string; dir?: string; line?: string; flags?: string[]; type: string }[] {
  try {
    return readFileSync(path.join(lab.dataDir, 'log', `${service}.ndjson`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
