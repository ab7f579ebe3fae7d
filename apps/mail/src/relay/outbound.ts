import type { Socket } from 'node:net';
import type { Session, Transcript } from '@portlab/transcript';
import type { NodemailerError } from 'nodemailer/lib/errors';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

/** What one SMTP transaction with the next server decided for each recipient. */
export interface Outcome {
  /** 250 to RCPT and to DATA: delivered there. */
  accepted: string[];
  /** 5yz: refused for good (bounced). */
  refused: { rcpt: string; reply: string }[];
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
 * Sends one message to one server with nodemailer's SMTP client (SMTPConnection): EHLO, MAIL,
 * RCPT per recipient, DATA, QUIT. Plain SMTP, on purpose: the class network is the lesson, and the
 * transcript on both labs shows the same lines. (Postfix between real servers would use STARTTLS
 * when offered: smtp_tls_security_level = may.) Never rejects: every failure is an Outcome.
 */
export function sendMessage(
  options: OutboundOptions,
  envelope: { from: string; to: string[] },
  message: Buffer,
): Promise<Outcome> {
  let session: Session | undefined;
  const pending: [dir: 'C' | 'S', line: string][] = [];
  const say = (dir: 'C' | 'S', line: string) => {
    if (session) session.line(dir, line);
    else pending.push([dir, line]);
  };
  const connection = new SMTPConnection({
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
    logger: transcriptLogger(say),
  });
  return new Promise<Outcome>((resolve) => {
    let done = false;
    const closeSession = () => {
      if (!session) {
        // Never connected: the attempt is in the transcript all the same, as one line.
        session = options.transcript.connected({ remoteAddress: options.address, remotePort: options.port });
        session.client(`<no connection to ${options.address}:${options.port}>`, ['summary']);
      }
      session.close();
    };
    // The outcome is known at the reply to DATA: resolved at once (the queue entry is removed
    // straight after a 250), while QUIT and its reply finish in the background.
    const finish = (outcome: Outcome, quit = false) => {
      if (done) return;
      done = true;
      resolve(outcome);
      if (!quit) {
        connection.close();
        return closeSession();
      }
      connection.once('end', closeSession);
      connection.quit();
      setTimeout(() => connection.close(), options.timeoutMs).unref();
    };
    const allDeferred = (reply: string): Outcome => ({
      accepted: [],
      refused: [],
      deferred: envelope.to.map((rcpt) => ({ rcpt, reply })),
    });
    connection.on('error', (err: Error & { code?: string; response?: string }) =>
      finish(allDeferred(err.response ?? `${err.code ?? 'error'}: ${err.message}`)),
    );
    connection.on('end', () => finish(allDeferred('the server closed the connection')));
    connection.connect(() => {
      // nodemailer keeps its socket private; the transcript needs both ends of it.
      const socket = (connection as unknown as { _socket: Socket })._socket;
      session = options.transcript.connected(socket);
      for (const [dir, line] of pending.splice(0)) session.line(dir, line);
      connection.send({ from: envelope.from || false, to: envelope.to }, message, (err, info) => {
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
          return finish(outcome, true);
        }
        const outcome: Outcome = { accepted: info.accepted.map(String), refused: [], deferred: [] };
        for (const r of info.rejectedErrors ?? []) {
          const entry = { rcpt: r.recipient ?? '', reply: r.response ?? r.message };
          (r.permanent ? outcome.refused : outcome.deferred).push(entry);
        }
        finish(outcome, true);
      });
    });
  });
}

/** nodemailer's logger interface: the transaction log's lines ({tnx: 'client'|'server'}) to the transcript. */
function transcriptLogger(say: (dir: 'C' | 'S', line: string) => void) {
  const ignore = () => undefined;
  return {
    trace: ignore,
    info: ignore,
    warn: ignore,
    error: ignore,
    fatal: ignore,
    debug(entry: { tnx?: string }, message: string) {
      if (entry.tnx !== 'client' && entry.tnx !== 'server') return;
      for (const line of String(message).split(/\r?\n/)) say(entry.tnx === 'client' ? 'C' : 'S', line);
    },
  };
}
