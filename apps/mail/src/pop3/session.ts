import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Folder } from '@portlab/mailstore';
import { LineReader, Turn } from '@portlab/service';
import type { Flag, Session } from '@portlab/transcript';
import type { MailDeps } from '../deps.js';
import { summarizeMessage } from '../summary.js';
import { multilineBody, topOf } from './message.js';

/** RFC 1939 §3: a session is in one state at a time. */
type State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

/** RFC 2449 §4: command lines up to 255 octets; SASL responses (RFC 5034 §4) may be longer. */
const MAX_LINE = 1024;
/** RFC 1939 §3: an autologout timer of at least 10 minutes. */
const IDLE_TIMEOUT_MS = 10 * 60_000;
/** A long listing (UIDL, LIST) goes out this many lines at a time, the loop going round between. */
const LINES_PER_PIECE = 500;
/** How many lines of a listing the transcript shows before it counts the rest (as IMAP's does). */
const TRANSCRIPT_LINES = 100;

interface Command {
  /** The states the command is valid in. */
  states: State[];
  run(args: string[]): void | Promise<void>;
}

interface MaildropMessage {
  uid: number;
  size: number;
  /** Its UIDL answer, made once at login: a maildrop is listed again and again. */
  uidl: string;
  /** DELE'd: removed at QUIT (the UPDATE state), forgotten by RSET or a dropped connection. */
  deleted: boolean;
  retrieved: boolean;
}

/**
 * One POP3 session (RFC 1939, with RFC 2449 CAPA, RFC 2595 STLS and RFC 5034 SASL PLAIN). The
 * maildrop is the user's INBOX as it was at login; nothing changes in the store until QUIT.
 */
export class Pop3Session {
  private state: State = 'AUTHORIZATION';
  private reader: LineReader;
  private readonly queue: string[] = [];
  private busy = false;
  /**
   * The client closed its sending side (`printf 'USER bob\r\n…' | nc`): the commands it sent still
   * get their replies, then the connection ends. Hence half-open sockets (allowHalfOpen).
   */
  private inputEnded = false;
  /** Given by USER, waiting for PASS. */
  private userName: string | null = null;
  /** AUTH PLAIN sent without its initial response: the next line is the response. */
  private awaitingSasl = false;
  /** An AUTH line was typed, and no POP3 command since: see execute. */
  private afterAuth = false;
  private inbox: Folder | null = null;
  private uidValidity = 0;
  private maildrop: MaildropMessage[] = [];
  /** Messages and octets not DELE'd (STAT, and the first line of LIST): kept, not counted each time. */
  private live = { count: 0, octets: 0 };
  /** This session's share of the event loop: see Turn (issue #20, one client must not stall others). */
  private readonly turn = new Turn();

  private readonly commands: Record<string, Command> = {
    CAPA: { states: ['AUTHORIZATION', 'TRANSACTION'], run: () => this.capa() },
    USER: { states: ['AUTHORIZATION'], run: (args) => this.user(args) },
    PASS: { states: ['AUTHORIZATION'], run: (args) => this.pass(args) },
    AUTH: { states: ['AUTHORIZATION'], run: (args) => this.auth(args) },
    STLS: { states: ['AUTHORIZATION'], run: () => this.stls() },
    STAT: { states: ['TRANSACTION'], run: () => this.stat() },
    LIST: { states: ['TRANSACTION'], run: (args) => this.list(args) },
    UIDL: { states: ['TRANSACTION'], run: (args) => this.uidl(args) },
    RETR: { states: ['TRANSACTION'], run: (args) => this.retr(args) },
    TOP: { states: ['TRANSACTION'], run: (args) => this.top(args) },
    DELE: { states: ['TRANSACTION'], run: (args) => this.dele(args) },
    RSET: { states: ['TRANSACTION'], run: () => this.rset() },
    NOOP: { states: ['TRANSACTION'], run: () => this.ok('') },
    QUIT: { states: ['AUTHORIZATION', 'TRANSACTION'], run: () => this.quit() },
  };

  constructor(
    private socket: Socket,
    private readonly deps: MailDeps,
    private readonly secureContext: SecureContext,
    private readonly transcript: Session | undefined,
    private secure: boolean,
  ) {
    this.reader = this.newReader();
  }

  start(): void {
    this.listen(this.socket);
    this.ok('portlab POP3 server ready');
  }

  // --- AUTHORIZATION state -------------------------------------------------------------------

  /** RFC 2449 §5: what this server can do, here and now. */
  private capa(): void {
    const capabilities = [
      'TOP',
      'UIDL',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      'IMPLEMENTATION portlab',
    ];
    if (this.state === 'AUTHORIZATION' && this.passwordsAllowed()) capabilities.push('USER', 'SASL PLAIN');
    if (this.state === 'AUTHORIZATION' && !this.secure) capabilities.push('STLS');
    this.multiline('Capability list follows', capabilities);
  }

  /** RFC 1939 §7: USER name. The answer is the same whether the account exists or not. */
  private user([name]: string[]) {
    if (!this.passwordsAllowed()) return this.mustStartTls();
    if (!name) return this.err('usage: USER name');
    this.userName = name;
    this.ok(`send PASS for ${name}`);
  }

  /** RFC 1939 §7: PASS password (the rest of the line: a password may hold spaces). */
  private async pass(args: string[]): Promise<void> {
    if (!this.passwordsAllowed()) return this.mustStartTls();
    if (this.userName === null) return this.err('send USER first');
    const name = this.userName;
    this.userName = null;
    await this.login(name, args.join(' '));
  }

  /** RFC 5034 §4: AUTH PLAIN [initial-response]. AUTH alone lists the mechanisms (RFC 1734, Outlook). */
  private async auth([mechanism, initial]: string[]): Promise<void> {
    if (!mechanism) return this.multiline('SASL mechanisms follow', ['PLAIN']);
    if (mechanism.toUpperCase() !== 'PLAIN')
      return this.err(`mechanism ${mechanism} is not supported: use PLAIN`);
    if (!this.passwordsAllowed()) return this.mustStartTls();
    if (initial === undefined) {
      this.awaitingSasl = true;
      return this.reply('+ ');
    }
    await this.saslPlain(initial === '=' ? '' : initial);
  }

  /** RFC 4616 §2: base64 of authzid NUL authcid NUL password. */
  private async saslPlain(response: string): Promise<void> {
    if (response === '*') return this.err('authentication cancelled');
    const [authzid, authcid, password] = Buffer.from(response, 'base64').toString('utf8').split('\0');
    if (authcid === undefined || password === undefined) {
      return this.err('[AUTH] malformed PLAIN response: base64 of "\\0user\\0password" expected');
    }
    if (authzid && authzid !== authcid) return this.err('[AUTH] acting as another user is not allowed');
    await this.login(authcid, password);
  }

  private async login(name: string, password: string): Promise<void> {
    const { runtime, config, throttle, store } = this.deps;
    // A wrong password is answered after a delay that grows with each failure (LoginThrottle).
    const { user } = await throttle.authenticate(runtime.users, {
      name,
      password,
      domain: config.domain,
      address: this.socket.remoteAddress ?? '',
      transcript: this.transcript, // Whose password the PASS or AUTH lines were (see Session.login).
    });
    if (!user) return this.err('[AUTH] wrong user name or password');
    this.inbox = await (await store.mailbox(user)).folder('INBOX');
    const messages = await this.inbox.messages();
    this.uidValidity = (await this.inbox.status()).uidValidity;
    const validity = hex8(this.uidValidity);
    this.maildrop = messages.map((m) => ({
      uid: m.uid,
      size: m.size,
      uidl: `${hex8(m.uid)}${validity}`,
      deleted: false,
      retrieved: false,
    }));
    this.live = { count: messages.length, octets: messages.reduce((sum, m) => sum + m.size, 0) };
    this.state = 'TRANSACTION';
    this.ok(`${user} has ${this.count()} messages (${this.octets()} octets)`);
  }

  /** RFC 2595 §4: STLS, then the TLS handshake on the same connection. */
  private stls() {
    if (this.secure) return this.err('TLS is already on');
    this.reply('+OK begin TLS negotiation', ['tls']);
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.setTimeout(0);
    // Lines that came in clear text after STLS are dropped, not run inside TLS: that would let
    // a man in the middle add commands to the protected session (CVE-2011-0411, "STARTTLS injection").
    this.queue.length = 0;
    this.reader = this.newReader();
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    secure.on('error', () => secure.destroy());
    secure.once('secure', () => {
      this.secure = true;
      this.listen(secure);
    });
    this.socket = secure;
  }

  // --- TRANSACTION state ---------------------------------------------------------------------

  /** RFC 1939 §5: STAT -> "+OK count octets", deleted messages left out. */
  private stat(): void {
    this.ok(`${this.count()} ${this.octets()}`);
  }

  /** RFC 1939 §5: LIST [msg] -> message number and size. */
  private async list([n]: string[]): Promise<void> {
    if (n !== undefined) {
      const message = this.message(n);
      if (message) this.ok(`${n} ${message.size}`);
      return;
    }
    await this.listing(`${this.count()} messages (${this.octets()} octets)`, (m) => `${m.size}`);
  }

  /**
   * RFC 1939 §7: UIDL [msg] -> a unique id that never changes for that message. Made as Dovecot's
   * default (pop3_uidl_format = %08Xu%08Xv): the IMAP UID then UIDVALIDITY, in hex.
   */
  private async uidl([n]: string[]): Promise<void> {
    if (n !== undefined) {
      const message = this.message(n);
      if (message) this.ok(`${n} ${message.uidl}`);
      return;
    }
    await this.listing('unique ids follow', (m) => m.uidl);
  }

  /** RFC 1939 §5: RETR msg -> the whole message. */
  private async retr([n]: string[]): Promise<void> {
    const message = this.message(n);
    if (!message) return;
    const bytes = await this.inbox!.read(message.uid);
    message.retrieved = true;
    this.sendMessage(`${bytes.length} octets`, bytes, multilineBody(bytes));
  }

  /** RFC 1939 §7: TOP msg n -> the header and the first n lines of the body. */
  private async top([n, lines]: string[]): Promise<void> {
    if (lines === undefined || !/^\d+$/.test(lines)) return this.err('usage: TOP message-number lines');
    const message = this.message(n);
    if (!message) return;
    const bytes = await this.inbox!.read(message.uid);
    this.sendMessage('top of message follows', bytes, multilineBody(topOf(bytes, Number(lines))));
  }

  /** RFC 1939 §5: DELE msg marks it; it goes at QUIT, and only then. */
  private dele([n]: string[]): void {
    const message = this.message(n);
    if (!message) return;
    message.deleted = true;
    this.live.count--;
    this.live.octets -= message.size;
    this.ok(`message ${n} deleted`);
  }

  /** RFC 1939 §5: RSET unmarks every DELE'd message. */
  private rset(): void {
    for (const message of this.maildrop) message.deleted = false;
    this.live = {
      count: this.maildrop.length,
      octets: this.maildrop.reduce((sum, m) => sum + m.size, 0),
    };
    this.ok(`maildrop has ${this.count()} messages (${this.octets()} octets)`);
  }

  /**
   * RFC 1939 §6: QUIT in TRANSACTION enters UPDATE: DELE'd messages are removed now, and the
   * retrieved ones marked \Seen (so IMAP shows them read). A connection that drops without QUIT
   * changes nothing.
   */
  private async quit(): Promise<void> {
    if (this.state === 'TRANSACTION') {
      this.state = 'UPDATE';
      const doomed = this.maildrop.filter((m) => m.deleted).map((m) => m.uid);
      const read = this.maildrop.filter((m) => m.retrieved && !m.deleted).map((m) => m.uid);
      try {
        await this.inbox!.delete(doomed);
        if (read.length) await this.inbox!.setFlags(read, 'add', ['\\Seen']);
      } catch (err) {
        this.err(`some deleted messages not removed (${(err as Error).message})`);
        this.socket.end();
        return;
      }
      this.ok(`bye: ${doomed.length} messages deleted`);
    } else {
      this.ok('bye');
    }
    this.socket.end();
  }

  // --- lines in, replies out -----------------------------------------------------------------

  private newReader(): LineReader {
    // A reader that STLS replaced says nothing more: the chunk it was splitting when STLS ran may
    // hold more clear-text lines, and they must not run inside TLS (RFC 2595 §4, CVE-2011-0411).
    const reader: LineReader = new LineReader(
      MAX_LINE,
      (line) => this.reader === reader && this.enqueue(line),
      () => this.reader === reader && this.enqueue(null),
    );
    return reader;
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('end', () => {
      this.inputEnded = true;
      void this.drain();
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(IDLE_TIMEOUT_MS, () => {
      this.err('autologout: idle for 10 minutes');
      socket.end();
    });
  }

  /** Lines run one at a time, in order (PIPELINING, RFC 2449 §6.6); null stands for a line too long. */
  private enqueue(line: string | null): void {
    this.queue.push(line ?? '\0');
    if (this.queue.length > 100) this.socket.pause();
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0 && !this.socket.destroyed) {
      try {
        await this.execute(this.queue.shift()!);
      } catch (err) {
        // One command failing (a message expunged over IMAP meanwhile) must not stall those behind it.
        this.err(`internal error: ${(err as Error).message}`);
      }
      // Pipelined commands (RFC 2449 §6.6) run in this session's share of the loop, and no faster
      // than the client reads their answers.
      await this.turn.pace(this.socket);
    }
    this.busy = false;
    this.socket.resume();
    if (this.inputEnded && this.queue.length === 0) this.socket.end();
  }

  private async execute(line: string): Promise<void> {
    if (line === '\0') {
      this.transcript?.client(`<a line over ${MAX_LINE} octets>`, ['summary']);
      return this.err(`line too long: this server reads lines of up to ${MAX_LINE} octets`);
    }
    if (this.awaitingSasl) {
      this.awaitingSasl = false;
      this.transcript?.client(line, ['credentials']);
      return this.saslPlain(line.trim());
    }
    const [verb = '', ...args] = line.trim().split(/ +/);
    const name = verb.toUpperCase();
    const command = this.commands[name];
    // After an AUTH refused (AUTH LOGIN: this server offers PLAIN), someone typing by hand sends the
    // base64 lines anyway: credentials too, until the next POP3 command.
    if (name === 'AUTH') this.afterAuth = true;
    else if (command) this.afterAuth = false;
    const typedAfterAuth = this.afterAuth && this.state === 'AUTHORIZATION';
    this.transcript?.client(line, name === 'PASS' || typedAfterAuth ? ['credentials'] : []);
    if (!command) return this.err(`unknown command '${verb}': CAPA lists what this server knows`);
    if (!command.states.includes(this.state)) {
      return this.err(
        `${name} is not valid ${this.state === 'AUTHORIZATION' ? 'before login' : 'after login'}`,
      );
    }
    await command.run(args);
  }

  /** The message a number names, or an -ERR saying why there is none (RFC 1939 §5). */
  private message(n: string | undefined): MaildropMessage | undefined {
    const message = n !== undefined && /^\d+$/.test(n) ? this.maildrop[Number(n) - 1] : undefined;
    if (!message) this.err(`no such message${n === undefined ? ': give its number' : ` (${n})`}`);
    else if (message.deleted) this.err(`message ${n} already deleted`);
    else return message;
    return undefined;
  }

  private count(): number {
    return this.live.count;
  }

  private octets(): number {
    return this.live.octets;
  }

  private passwordsAllowed(): boolean {
    return this.secure || !this.deps.config.mail.requireTlsForAuth;
  }

  private mustStartTls(): void {
    this.err('[AUTH] this lab requires TLS before a password: send STLS first');
  }

  private ok(text: string): void {
    this.reply(text ? `+OK ${text}` : '+OK');
  }

  private err(text: string): void {
    this.reply(`-ERR ${text}`);
  }

  /**
   * A multi-line listing of the messages not DELE'd, "number text" a line (LIST, UIDL; RFC 1939
   * §5, §7). It goes out LINES_PER_PIECE lines at a time, each piece after the client read the last
   * (backpressure) and within this session's share of the loop: 9,800 lines, asked for 1,000 times
   * in one pipelined burst, must not keep other connections from their greetings. Neither a number
   * nor a UIDL starts with ".", so no line needs byte-stuffing.
   */
  private async listing(first: string, text: (m: MaildropMessage) => string): Promise<void> {
    this.socket.write(`+OK ${first}\r\n`);
    this.transcript?.server(`+OK ${first}`);
    const shown: string[] = [];
    let piece = '';
    let inPiece = 0;
    for (let i = 0; i < this.maildrop.length; i++) {
      const m = this.maildrop[i]!;
      if (m.deleted) continue;
      const line = `${i + 1} ${text(m)}`;
      if (shown.length < TRANSCRIPT_LINES) shown.push(line);
      piece += `${line}\r\n`;
      if (++inPiece === LINES_PER_PIECE) {
        if (!this.socket.writable) return;
        this.socket.write(piece);
        piece = '';
        inPiece = 0;
        await this.turn.pace(this.socket);
      }
    }
    if (!this.socket.writable) return;
    this.socket.write(`${piece}.\r\n`);
    const count = this.count();
    if (count) {
      const more = count > shown.length ? ` | … ${count - shown.length} more` : '';
      this.transcript?.server(`<${count} lines: ${shown.join(' | ')}${more}>`, ['summary']);
    }
    this.transcript?.server('.');
  }

  private multiline(first: string, lines: string[]): void {
    this.socket.write(`+OK ${first}\r\n`);
    this.socket.write(multilineBody(Buffer.from(lines.join('\r\n'))));
    this.transcript?.server(`+OK ${first}`);
    if (lines.length) this.transcript?.server(`<${lines.length} lines: ${lines.join(' | ')}>`, ['summary']);
    this.transcript?.server('.');
  }

  private sendMessage(first: string, message: Buffer, body: Buffer): void {
    this.socket.write(`+OK ${first}\r\n`);
    this.socket.write(body);
    this.transcript?.server(`+OK ${first}`);
    this.transcript?.server(summarizeMessage(message), ['summary']);
    this.transcript?.server('.');
  }

  private reply(line: string, flags: Flag[] = []): void {
    if (!this.socket.writable) return;
    this.socket.write(`${line}\r\n`);
    this.transcript?.server(line.trimEnd(), flags);
  }
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}
