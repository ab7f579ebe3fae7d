import { readFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { type ConfigFile, loadConfig } from '@portlab/config';
import { MailStore } from '@portlab/mailstore';
import { AppRuntime, LoginThrottle } from '@portlab/service';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { createImapServer } from '../src/index.js';

export interface ImapLab {
  lab: TempLab;
  runtime: AppRuntime;
  store: MailStore;
  port: number;
  tlsPort: number;
  throttle: LoginThrottle;
  stop(): Promise<void>;
  /** Stops the server and starts a new one (a new process, as far as it knows) on the same data. */
  restart(): Promise<ImapLab>;
}

/** The IMAP server wired as apps/mail wires it: an AppRuntime on tempLab's free ports, a real store. */
export async function startImapLab(extra: Partial<ConfigFile> = {}): Promise<ImapLab> {
  return serveImapLab(await tempLab(extra));
}

async function serveImapLab(lab: TempLab): Promise<ImapLab> {
  const config = loadConfig({ file: lab.configFile, env: {} });
  const runtime = new AppRuntime('mail', config);
  await runtime.users.ensure();
  const store = new MailStore(config.paths.mail, { quotaBytes: config.mail.quotaBytes });
  const throttle = new LoginThrottle({ baseDelayMs: 200, maxDelayMs: 1000 });
  const certificate = await runtime.certificate();
  const options = {
    store,
    users: runtime.users,
    throttle,
    certificate,
    config,
    sessionOf: runtime.sessionOf.bind(runtime),
  };
  await runtime.serve('imap', createImapServer({ ...options, implicitTls: false }));
  await runtime.serve('imaps', createImapServer({ ...options, implicitTls: true }));
  return {
    lab,
    runtime,
    store,
    port: lab.ports.imap,
    tlsPort: lab.ports.imaps,
    throttle,
    async stop() {
      await runtime.shutdown();
      lab.cleanup();
    },
    async restart() {
      await runtime.shutdown();
      return serveImapLab(lab);
    },
  };
}

/** A test message: headers, a body, CRLF line ends. */
/** A line of the IMAP transcript ($DATA/log/imap.ndjson), as the tests read it. */
export interface TranscriptLine {
  line?: string;
  flags?: string[];
  dir?: string;
}

/** The lab's IMAP transcript, once it holds a line that starts with `last` (written in batches). */
export function transcriptUntil(lab: ImapLab, last: string): Promise<TranscriptLine[]> {
  const file = path.join(lab.lab.dataDir, 'log', 'imap.ndjson');
  return waitFor(
    () => {
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TranscriptLine);
      return lines.some((e) => e.line?.startsWith(last)) && lines;
    },
    { what: `the transcript to hold ${last}` },
  );
}

export function message(subject: string, body = 'Hello from the lab.', from = 'alice@lab.test'): Buffer {
  return Buffer.from(
    [
      `From: Alice <${from}>`,
      'To: Bob <bob@lab.test>',
      `Subject: ${subject}`,
      'Date: Wed, 27 Nov 2024 10:00:00 +0000',
      `Message-ID: <${Math.random().toString(36).slice(2)}@lab.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

/**
 * A raw IMAP conversation over a socket: send lines (LF or CRLF, as typed), wait for the line
 * that ends a tagged command. What a student does with nc.
 */
export class RawClient {
  private buffer = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return RawClient.over(socket);
  }

  /** A connection already past LOGIN (bob's, unless told otherwise); throws if the login fails. */
  static async loggedIn(port: number, user = 'bob', password = 'builder'): Promise<RawClient> {
    const client = await RawClient.connect(port);
    const answer = await client.command('l1', `LOGIN ${user} ${password}`);
    if (!/^l1 OK/m.test(answer)) throw new Error(`LOGIN ${user} failed: ${answer}`);
    return client;
  }

  /** A conversation over a socket already open (a TLS socket after STARTTLS). */
  static async over(socket: Socket, greeting = true): Promise<RawClient> {
    const client = new RawClient(socket);
    if (!greeting) return client;
    await client.until(/^\* OK .*\r\n/m);
    return client;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Waits until what the server said matches, returns it all and forgets it. */
  async until(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.buffer)) {
      if (this.socket.destroyed && !pattern.test(this.buffer))
        throw new Error(`connection closed; server said: ${this.buffer}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}; server said: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    const out = this.buffer;
    this.buffer = '';
    return out;
  }

  /** Sends `tag command` with LF only, as typed into nc, and returns everything up to the tagged line. */
  async command(tag: string, line: string, timeoutMs?: number): Promise<string> {
    this.write(`${tag} ${line}\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'), timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
