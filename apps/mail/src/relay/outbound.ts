import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Session, Transcript } from '@portlab/transcript';
import type { NodemailerError } from 'nodemailer/lib/errors';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { debugOnlyLogger } from '../protocol-log.js';

/** What one SMTP transaction with the next server decided for each recipient. */
export interface Outcome {
  /** 250 to RCPT and to DATA: delivered there. */
  accepted: string[];
  /** 5yz: refused for good (bounced). `status`: RFC 3463's, when the reply carries none. */
  refused: { rcpt: string; reply: string; status?: string }[];
  /** 4yz, or no answer: to try again. */
  deferred: { rcpt: string; reply: string }[];
}

export interface OutboundOptions {
  /** The next server's address and port (the MX host, port 25 + the offset). */
  address: string;
  port: number;
  /** Our name for EHLO: the lab's domain. */
  name: string;
  /** The lab's address, so the next server sees the mail come from this lab (clientSourceAddress). */
  localAddress?: string | undefined;
  timeoutMs: number;
  /** The relay's transcript: every line of the dialogue, as `C:` (us) and `S:` (them). */
  transcript: Transcript;
}

/**
 * One SMTP connection to the next server, with nodemailer's SMTP client (SMTPConnection): EHLO,
 * then per message MAIL, RCPT per recipient, DATA; QUIT at the end. Several messages for the same
 * destination go over one connection, one transaction after the other (RFC 5321 §3.3), as
 * Postfix's connection cache does: no new TCP handshake and EHLO per message.
 * Plain SMTP, on purpose: the class network is the lesson, and the transcript on both labs shows
 * the same lines. (Postfix between real servers would use STARTTLS when offered:
 * smtp_tls_security_level = may.)
 */
export class OutboundSession {
  /** False once the connection failed or closed: open another for the next message. */
  usable = true;
  private closedReason = 'the server closed the connection';
  private session: Session | undefined;
  private readonly pending: [dir: 'C' | 'S', line: string][] = [];

  private constructor(
    private readonly connection: SMTPConnection,
    private readonly options: OutboundOptions,
  ) {}

  /** Connects and says EHLO; rejects with the reason when the server cannot be reached. */
  static async open(options: OutboundOptions): Promise<OutboundSession> {
    // nodemailer's SMTP client (1.6 MB of heap) is loaded at the first relayed message: a lab that
    // never relays, the usual case, keeps it out of its heap (issue #20, idle memory). Its CommonJS
    // build, as smtp-server's (smtp/smtp-server-internals.ts): the ES one imports node:http, which
    // on Node 22+ brings undici, 3 MB more for the rest of the app's life.
    const Client = createRequire(import.meta.url)('nodemailer/lib/smtp-connection') as typeof SMTPConnection;
    let outbound: OutboundSession;
    const connection = new Client({
      host: options.address,
      port: options.port,
      name: options.name,
      localAddress: options.localAddress,
      ignoreTLS: true,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs * 3,
      // Commands and replies only, not the message: the transcript says what the message was.
      transactionLog: true,
      logger: transcriptLogger((dir, line) => outbound.say(dir, line)),
    });
    outbound = new OutboundSession(connection, options);
    return new Promise((resolve, reject) => {
      let connected = false;
      connection.on('error', (err: NodemailerError) => {
        outbound.usable = false;
        outbound.closedReason = err.response ?? `${err.code ?? 'error'}: ${err.message}`;
        if (connected) return;
        // Never connected: the attempt is in the transcript all the same, as one line.
        const session = options.transcript.connected({
          remoteAddress: options.address,
          remotePort: options.port,
        });
        session.client(`<no connection to ${options.address}:${options.port}: ${outbound.closedReason}>`, [
          'summary',
        ]);
        session.close();
        reject(new Error(outbound.closedReason));
      });
      connection.on('end', () => {
        outbound.usable = false;
        outbound.session?.close();
      });
      connection.connect(() => {
        connected = true;
        // nodemailer keeps its socket private; the transcript needs both ends of it.
        const socket = (connection as unknown as { _socket: Socket })._socket;
        outbound.session = options.transcript.connected(socket);
        for (const [dir, line] of outbound.pending.splice(0)) outbound.session.line(dir, line);
        resolve(outbound);
      });
    });
  }

  /**
   * One transaction. Never rejects: every failure is an Outcome. Resolves at the reply to DATA,
   * so that the queue entry is removed straight after a 250.
   */
  send(envelope: { from: string; to: string[] }, message: Buffer): Promise<Outcome> {
    const allDeferred = (reply: string): Outcome => ({
      accepted: [],
      refused: [],
      deferred: envelope.to.map((rcpt) => ({ rcpt, reply })),
    });
    if (!this.usable) return Promise.resolve(allDeferred(this.closedReason));
    return new Promise((resolve) => {
      const onEnd = () => resolve(allDeferred(this.closedReason));
      this.connection.once('end', onEnd);
      this.connection.send({ from: envelope.from || false, to: envelope.to }, message, (err, info) => {
        this.connection.off('end', onEnd);
        if (err) {
          const e = err as NodemailerError;
          const reply = e.response ?? e.message;
          // Every recipient refused (EENVELOPE), or MAIL FROM or DATA refused: all alike.
          const outcome: Outcome = { accepted: [], refused: [], deferred: [] };
          for (const rcpt of envelope.to) {
            const own = e.rejectedErrors?.find((r) => r.recipient === rcpt) ?? e;
            const entry = { rcpt, reply: own.response ?? reply };
            (own.permanent ? outcome.refused : outcome.deferred).push(entry);
          }
          // The transaction failed, the connection may not have: RSET (RFC 5321 §4.1.1.5) before the next.
          if (this.usable && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE')) {
            this.connection.reset((resetErr) => {
              if (resetErr) this.usable = false;
              resolve(outcome);
            });
          } else {
            this.usable = false;
            resolve(outcome);
          }
          return;
        }
        const outcome: Outcome = { accepted: info.accepted.map(String), refused: [], deferred: [] };
        for (const r of info.rejectedErrors ?? []) {
          const entry = { rcpt: r.recipient ?? '', reply: r.response ?? r.message };
          (r.permanent ? outcome.refused : outcome.deferred).push(entry);
        }
        resolve(outcome);
      });
    });
  }

  /** QUIT and its reply finish in the background; the connection is cut if they take too long. */
  close(): void {
    if (!this.usable) {
      this.connection.close();
      return;
    }
    this.usable = false;
    this.connection.quit();
    setTimeout(() => this.connection.close(), this.options.timeoutMs).unref();
  }

  private say(dir: 'C' | 'S', line: string): void {
    if (this.session) this.session.line(dir, line);
    else this.pending.push([dir, line]);
  }
}

/** nodemailer's logger interface: the transaction log's lines ({tnx: 'client'|'server'}) to the transcript. */
function transcriptLogger(say: (dir: 'C' | 'S', line: string) => void) {
  return debugOnlyLogger((entry, message) => {
    if (entry.tnx !== 'client' && entry.tnx !== 'server') return;
    for (const line of String(message).split(/\r?\n/)) say(entry.tnx === 'client' ? 'C' : 'S', line);
  });
}
