import type { Flag, Session } from '@portlab/transcript';
import { HandTypedInput, LINE_TOO_LONG, MAX_COMMAND_LINE } from './input.js';
import {
  dispatchCommand,
  inAuthExchange,
  SMTPConnection,
  type SMTPStream,
  socketOf,
  startSession,
} from './smtp-server-internals.js';

type CloseListener = (hadError: boolean) => void;

/**
 * How long the server waits before its 220 greeting. A client that talks before it gets
 * `421 You talk too soon` (RFC 5321 §3.1: the server speaks first; labs 1 and 2 show it with curl
 * and with lines pasted into nc). Such a client sends its bytes right behind the ACK that completes
 * the connection, whatever the network's delay: measured on this 2-core machine under a load of 36,
 * curl's request and nc's piped lines arrived 0.1 to 1.8 ms after the accept. smtp-server waits
 * 100 ms, which every connection pays: an MTA (or smtp-source) opening one per message waits that
 * long for each. Postfix's smtpd greets at once. 10 ms keeps five times the worst delay seen, and
 * startSession reads what has arrived before it greets, even when the event loop was late.
 */
export const GREETING_PAUSE_MS = 10;

/**
 * One SMTP session: smtp-server's connection, with the lab's additions.
 * - Its input goes through HandTypedInput (bare LF, long lines: see input.ts).
 * - Every command line goes to the transcript as the client typed it: AUTH lines and the lines
 *   of an AUTH exchange are flagged 'credentials' (smtp-server's own log hides them; the lab
 *   shows them, so students see that base64 is not encryption). Replies come through
 *   `transcribeReply`, called from smtp-server's protocol log (see server.ts).
 * - STARTTLS keeps the session: the transcript session and the runtime's client count stay
 *   attached to the TCP socket under the TLS one.
 */
/** The commands of SMTP and its extensions (RFC 5321 §4.1, RFC 3207, RFC 4954, RFC 3030). */
const SMTP_VERBS = new Set(
  'HELO EHLO LHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY EXPN HELP STARTTLS AUTH'.split(' '),
);

export class LabSmtpConnection extends SMTPConnection {
  transcript: Session | undefined;
  /** The verb of the last command line, so that the 220 answering STARTTLS is flagged 'tls'. */
  private lastVerb = '';
  /** An AUTH line was typed, and no SMTP command since: see transcribeCommand. */
  private afterAuth = false;
  /** 'close' listeners the owner of the socket attached before smtp-server saw it (the runtime's). */
  private readonly ownerCloseListeners: CloseListener[];

  constructor(...args: ConstructorParameters<typeof SMTPConnection>) {
    super(...args);
    this.ownerCloseListeners = socketOf(this).listeners('close') as CloseListener[];
  }

  override init(): void {
    startSession(this, GREETING_PAUSE_MS);
  }

  override _createParser(): SMTPStream {
    const parser = new HandTypedInput();
    parser.oncommand = (command, next) => {
      const line = command.toString('binary');
      if (line === LINE_TOO_LONG) {
        this.transcript?.client(`<a command line over ${MAX_COMMAND_LINE} octets>`, ['summary']);
        this.send(
          500,
          `Error: line too long: this server reads command lines of up to ${MAX_COMMAND_LINE} octets`,
        );
        setImmediate(() => next?.());
        return;
      }
      this.transcribeCommand(command.toString('utf8'));
      dispatchCommand(this, command, next);
    };
    parser.on('error', (err) => this.send(421, `Error: ${err.message}`));
    return parser;
  }

  /** A reply, exactly as smtp-server wrote it (one or several lines). */
  transcribeReply(payload: string): void {
    const lines = payload.split('\r\n');
    lines.forEach((line, i) => {
      // RFC 3207 §4: after the 220 that answers STARTTLS, the next byte is the TLS handshake.
      const last = i === lines.length - 1;
      const flags: Flag[] = last && this.lastVerb === 'STARTTLS' && line.startsWith('220') ? ['tls'] : [];
      this.transcript?.server(line, flags);
    });
  }

  /** The message itself is not logged, only what it is (its size and Subject). */
  transcribeMessage(summary: string): void {
    this.transcript?.client(summary, ['summary']);
  }

  override upgrade(callback: () => void, secureCallback?: () => void): void {
    const socket = socketOf(this);
    super.upgrade(callback, secureCallback);
    // smtp-server removes every listener of the TCP socket before wrapping it in TLS; the
    // runtime's own (which closes the transcript session and counts clients) goes back on.
    for (const listener of this.ownerCloseListeners) socket.on('close', listener);
  }

  private transcribeCommand(line: string): void {
    // During an AUTH exchange the client's lines are credentials, whatever they look like.
    const inAuth = inAuthExchange(this);
    const word = (line.split(' ')[0] ?? '').toUpperCase();
    const verb = inAuth ? 'AUTH' : word;
    // An AUTH the server refused (on the MX port, or before EHLO) starts no exchange, but someone
    // typing by hand sends the user name and password lines anyway: they are credentials too,
    // until the next SMTP command (else the dashboard shows the base64 password to everyone).
    if (verb === 'AUTH') this.afterAuth = true;
    else if (SMTP_VERBS.has(word)) this.afterAuth = false;
    this.lastVerb = verb;
    const typedAfterAuth = this.afterAuth && !this.session?.user;
    this.transcript?.client(line, verb === 'AUTH' || typedAfterAuth ? ['credentials'] : []);
  }
}
