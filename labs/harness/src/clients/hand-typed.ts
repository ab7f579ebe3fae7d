/**
 * A TCP client that types lines as a student does in `nc -C` or telnet (each line ends with CRLF,
 * as RFC 5321 §2.3.8, RFC 1939 §3, RFC 3501 §2.2 and RFC 959 §4.1 ask) and reads the answers.
 * `startTls()` upgrades the connection in place after STARTTLS/STLS, as RFC 3207 §4 describes.
 */
import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { clientSourceAddress, type LabConfig, labConnectAddress } from '@portlab/config';
import type { Printer } from '../output.js';

const REPLY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export class HandTyped {
  private input = '';
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  /**
   * Connects to `port` of the lab (its address, from its own address: see config's
   * clientSourceAddress, so that an FTP server on 127.0.0.2 sees us at 127.0.0.2 and accepts a PORT
   * there), or of `host`. Gives up after 10 s, naming what it tried.
   */
  static open(to: string | Pick<LabConfig, 'host' | 'publicAddress'>, port: number): Promise<HandTyped> {
    const host = typeof to === 'string' ? to : labConnectAddress(to);
    const localAddress = typeof to === 'string' ? undefined : clientSourceAddress(to);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) }, () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        resolve(new HandTyped(socket));
      });
      const fail = (err: Error) => {
        socket.destroy();
        reject(
          new Error(
            `cannot connect to ${host} port ${port}${localAddress ? ` from ${localAddress}` : ''}: ${err.message}`,
          ),
        );
      };
      socket.once('error', fail);
      socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
        fail(
          new Error(
            `no answer in ${CONNECT_TIMEOUT_MS / 1000} s: is the lab running there, and no firewall in the way?`,
          ),
        ),
      );
    });
  }

  /** The local IP address of this connection: where the server sees us, and where PORT may point. */
  get localIp(): string {
    return (this.socket.localAddress ?? '').replace(/^::ffff:/, '');
  }

  /** The local end, "ip:port": what the server's transcript calls this client. */
  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  /** Waits until what the server sent matches `until`; returns it and forgets it. */
  async read(until: RegExp, timeoutMs = REPLY_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = until.exec(this.input);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.input.slice(0, end);
        this.input = this.input.slice(end);
        return text;
      }
      if (this.closed) throw new Error(`the server closed the connection; it had said: ${this.input}`);
      if (Date.now() > deadline) throw new Error(`no answer matching ${until} in time; got: ${this.input}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  /** Types a line (and Enter), then reads the answer up to `until`. */
  async say(line: string, until: RegExp): Promise<string> {
    this.type(line);
    return this.read(until);
  }

  type(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Switches to TLS on the same TCP connection (the lab certificate is self-signed: not checked here). */
  async startTls(): Promise<void> {
    const tcp = this.socket;
    tcp.removeAllListeners('data');
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: tcp, rejectUnauthorized: false }, () => {
        s.setTimeout(0);
        resolve(s);
      });
      s.once('error', reject);
      s.setTimeout(REPLY_TIMEOUT_MS, () =>
        s.destroy(new Error(`no TLS handshake in ${REPLY_TIMEOUT_MS / 1000} s: does this port speak TLS?`)),
      );
    });
    this.socket = secure;
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.input += text;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }
}

/** Types `line` on `client`, shows it as the student sees it typed (in cyan), then shows the answer. */
export async function typeAndShow(
  out: Printer,
  client: HandTyped,
  line: string,
  until: RegExp,
): Promise<string> {
  out.say(line, 'cyan');
  const answer = await client.say(line, until);
  out.say(answer.trimEnd());
  return answer;
}

/** A complete SMTP or FTP reply: the last line is "NNN text" (RFC 5321 §4.2.1, RFC 959 §4.2). */
export const REPLY = /(^|\r?\n)\d{3} [^\n]*\r?\n/;
/** A POP3 status line (RFC 1939 §3). */
export const POP3_STATUS = /^[+-][^\n]*\r?\n/m;
/** A multi-line POP3 answer ends with a lone dot. */
export const POP3_END = /\r?\n\.\r?\n/;
/** The tagged IMAP answer to the command tagged `tag` (RFC 3501 §2.2.2). */
export function imapDone(tag: string): RegExp {
  return new RegExp(`(^|\\n)${tag} (OK|NO|BAD)[^\\n]*\\r?\\n`);
}
