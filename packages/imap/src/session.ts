import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Turn } from '@portlab/service';
import type { Session as TranscriptSession } from '@portlab/transcript';
import type { Command, Completion } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { canonicalMailbox } from './mailbox-name.js';
import { MailboxView } from './mailbox-view.js';
import { Args } from './parser/args.js';
import { type RawCommand, readCommand } from './parser/command-reader.js';
import { LineInput } from './parser/input.js';
import { ImapSyntaxError } from './parser/tokenizer.js';
import { lookAndTakeRecent } from './recent.js';
import { ResponseWriter } from './response.js';
import type { ServerContext } from './server.js';
import type { FlagChange, UserMailbox } from './storage.js';

/** RFC 3501 §3: a session is in one of four states. */
export type State = 'not authenticated' | 'authenticated' | 'selected' | 'logout';

/** RFC 3501 §5.4: the autologout timer is at least 30 minutes (IDLE included, RFC 2177 §3). */
const AUTOLOGOUT_MS = 30 * 60_000;
/**
 * The largest literal before login: a user name and a password, never a message. The session
 * holds a literal whole until its command runs, so at the message limit (10 MB) 30 connections
 * that had not logged in held 300 MB of the mail app's memory, which serves the whole class.
 */
const MAX_LITERAL_BEFORE_LOGIN = 8 * 1024;

/**
 * Pipelined APPENDs run at once, up to this many or this many bytes of messages held: their
 * fsyncs are shared (the store's group commit) instead of one round each. Bounds the memory one
 * client can make the server hold.
 */
const APPENDS_AT_ONCE = 32;
const APPEND_BYTES_AT_ONCE = 8 * 1024 * 1024;

/**
 * The session's writer: where a long command waits for the client to read (between FETCH
 * batches, `out.drained()`), the session also gives other connections their turn (Session.pace).
 */
class PacedWriter extends ResponseWriter {
  constructor(
    socket: Socket,
    transcript: TranscriptSession | undefined,
    private readonly paced: () => Promise<void>,
  ) {
    super(socket, transcript);
  }

  override drained(): Promise<void> {
    return this.paced();
  }
}

/** A command read and checked, ready to run: or the completion that refused it. */
type Prepared = { command: Command; parsed: unknown; uid: boolean } | Completion;

/** An APPEND running while the next pipelined command is read (answered in order). */
interface InFlight {
  tag: string;
  done: Promise<Completion>;
  bytes: number;
}

/**
 * One IMAP connection: its state (RFC 3501 §3), who logged in, the selected mailbox as the client
 * knows it, and the loop that reads a command, checks it may run now, runs it and answers.
 * Commands run one at a time in the order they came (pipelined commands wait their turn).
 */
export class Session {
  state: State = 'not authenticated';
  user: string | null = null;
  mailbox: UserMailbox | null = null;
  selected: MailboxView | null = null;
  /** ENABLEd extensions (RFC 5161): CONDSTORE. */
  readonly enabled = new Set<string>();
  /** In IDLE (RFC 2177): news is told at once. */
  idling = false;
  readonly input: LineInput;
  readonly out: ResponseWriter;
  private unsubscribe: (() => void) | null = null;
  private telling: Promise<void> | null = null;
  /** This connection's share of the event loop (issue #20): see Turn. */
  private readonly turn = new Turn();
  /** The last known command was LOGIN or AUTHENTICATE: see run(). */
  private afterCredentials = false;
  /** Pipelined APPENDs running, oldest first; their tagged answers go out in this order. */
  private appending: InFlight[] = [];
  /** Settles once the last APPEND started has handed its messages to the store (appendInLine). */
  private appendLine: Promise<void> = Promise.resolve();

  constructor(
    public socket: Socket,
    readonly server: ServerContext,
    readonly transcript: TranscriptSession | undefined,
    /** The connection is encrypted (IMAPS, or after STARTTLS). */
    public secure: boolean,
  ) {
    this.input = new LineInput(socket);
    this.out = new PacedWriter(socket, transcript, () => this.pace());
    this.watch(socket);
  }

  /** Greets the client, then runs its commands until LOGOUT or the end of the connection. */
  async run(): Promise<void> {
    this.out.untagged(`OK [CAPABILITY ${this.capabilities().join(' ')}] portlab IMAP4rev1 server ready`);
    try {
      while (this.state !== 'logout') {
        // Every command first waits for the client to read earlier answers (backpressure), and
        // lets other connections run once this one used its share of the loop: a client that
        // pipelines 50 FETCH 1:* must not keep the next client from its greeting.
        await this.turn.pace(this.socket);
        const { limits } = this.server;
        const allowed =
          this.state === 'not authenticated'
            ? { ...limits, maxLiteralBytes: Math.min(limits.maxLiteralBytes, MAX_LITERAL_BEFORE_LOGIN) }
            : limits;
        const read = await readCommand(this.input, allowed, () =>
          this.out.continuation('go ahead: send the literal'),
        );
        if (read.kind !== 'command' || read.name !== 'APPEND') await this.answerAppends();
        if (read.kind === 'closed') break;
        if (read.kind === 'refused') {
          this.recordClient(read.raw, this.afterCredentials && this.state === 'not authenticated');
          this.out.tagged(read.tag, read.status, read.text, read.code);
          continue;
        }
        const found = COMMANDS.get(read.name);
        // After LOGIN or AUTHENTICATE, someone typing by hand whose command was refused (a LOGIN
        // without its password, AUTHENTICATE LOGIN: this server offers PLAIN) types the password
        // or its base64 on a line of its own: credentials too, until the next IMAP command.
        if (found) this.afterCredentials = found.credentials ?? false;
        this.recordClient(
          read.raw,
          (found?.credentials ?? false) || (this.afterCredentials && this.state === 'not authenticated'),
        );
        const args = new Args(read.args, found?.usage ?? '');
        if (read.name === 'APPEND') {
          this.startAppend(read.tag, found, args, read.raw);
          // The next command is here already (LITERAL+ pipelining, RFC 7888): read it while this
          // APPEND writes. Else the client waits for our answer: give it now.
          if (!this.input.lineReady || !this.appendRoom()) await this.answerAppends();
          continue;
        }
        this.out.hold();
        const completion = await this.execute(read.tag, read.name, found, args);
        this.out.tagged(read.tag, completion.status, completion.text, completion.code, completion.flags);
        this.out.release();
        completion.afterReply?.();
      }
      await this.answerAppends();
    } catch (err) {
      this.out.untagged(`BYE internal error: ${(err as Error).message}`);
      // A command's answers are held until it completes (out.hold): this one will not complete.
      this.out.release();
    } finally {
      this.close();
      this.socket.end();
    }
  }

  /**
   * The hook for long work inside a command (a FETCH or SEARCH over thousands of messages): call
   * it between batches. It returns at once while this connection's share of the event loop lasts
   * and the client reads; else it waits for the client to read, or lets other connections run.
   */
  async pace(): Promise<void> {
    if (!this.turn.spent && !this.socket.writableNeedDrain) return;
    // What the command wrote so far goes to the client before the session waits.
    this.out.release();
    await this.turn.pace(this.socket);
    this.out.hold();
  }

  /** Checks the command exists and may run in this state, reads its arguments, runs it. */
  private async execute(
    tag: string,
    name: string,
    found: Command | undefined,
    args: Args,
  ): Promise<Completion> {
    const prepared = this.prepare(name, found, args);
    if (!('command' in prepared)) return prepared;
    const completion = await this.runPrepared(tag, prepared);
    // RFC 3501 §7.4.1: EXPUNGE waits while the client's sequence numbers must hold still.
    await this.tellNews({
      expunges: !(prepared.command.bySequence && !prepared.uid),
      quick: prepared.command.quickNews,
    });
    return completion;
  }

  // --- pipelined APPEND ------------------------------------------------------------------------

  /**
   * Starts an APPEND without waiting for it: its message goes to disk while the session reads the
   * next command. A burst of APPENDs (one message each, LITERAL+) is then written at once, and the
   * store fsyncs the folder once for all of them (group commit) instead of once each.
   */
  private startAppend(tag: string, found: Command | undefined, args: Args, raw: RawCommand): void {
    const prepared = this.prepare('APPEND', found, args);
    const done = 'command' in prepared ? this.runPrepared(tag, prepared) : Promise.resolve(prepared);
    const bytes = raw.pieces.reduce((sum, piece) => sum + piece.length, 0);
    this.appending.push({ tag, done, bytes });
  }

  /**
   * A place in line for an APPEND, taken when it starts (before its first await): `ready` once the
   * APPENDs before it have handed their messages to the store (or failed), `pass()` lets the next
   * one go. Pipelined APPENDs run at once, and the store gives UIDs in the order it is called:
   * this makes that the order the commands came. RFC 3501 §5.5 lets a server run commands at once
   * only if the result is as if they ran one after the other; a client expects ascending APPENDUIDs.
   */
  appendInLine(): { ready: Promise<void>; pass: () => void } {
    const ready = this.appendLine;
    let pass!: () => void;
    this.appendLine = new Promise<void>((resolve) => {
      pass = resolve;
    });
    return { ready, pass };
  }

  /** Another APPEND may start before the ones running are answered. */
  private appendRoom(): boolean {
    const bytes = this.appending.reduce((sum, a) => sum + a.bytes, 0);
    return this.appending.length < APPENDS_AT_ONCE && bytes < APPEND_BYTES_AT_ONCE;
  }

  /** Waits for the APPENDs running and answers each, in the order they came (RFC 3501 §5.5). */
  private async answerAppends(): Promise<void> {
    if (this.appending.length === 0) return;
    const running = this.appending;
    this.appending = [];
    const completions = await Promise.all(running.map((a) => a.done));
    // The new messages, if the mailbox selected is where they went (EXISTS, RFC 3501 §6.3.11).
    await this.tellNews({ expunges: true });
    running.forEach(({ tag }, i) => {
      const c = completions[i]!;
      this.out.tagged(tag, c.status, c.text, c.code, c.flags);
    });
  }

  /** The command, checked: it exists, may run in this state, and its arguments parse. */
  private prepare(name: string, found: Command | undefined, args: Args): Prepared {
    let command = found;
    let uid = false;
    if (name === 'UID') {
      const sub = args.peek();
      const subName = sub?.type === 'atom' ? sub.value.toUpperCase() : '';
      command = COMMANDS.get(subName);
      if (!command?.uidForm)
        return { status: 'BAD', text: 'UID goes before COPY, FETCH, MOVE, SEARCH, STORE or EXPUNGE' };
      args.any('command');
      uid = true;
      args = new Args(args.rest(), `UID ${command.usage}`);
    }
    if (!command)
      return { status: 'BAD', text: `unknown command ${name}: CAPABILITY lists what this server does` };
    if (!command.states.includes(this.state)) return this.wrongState(command);
    try {
      return { command, parsed: command.parse(args, { uid }), uid };
    } catch (err) {
      if (err instanceof ImapSyntaxError) return { status: 'BAD', text: err.message };
      throw err;
    }
  }

  private async runPrepared(
    tag: string,
    { command, parsed, uid }: { command: Command; parsed: unknown; uid: boolean },
  ): Promise<Completion> {
    try {
      return await command.run({ tag, session: this, uid }, parsed);
    } catch (err) {
      // The store refused (a folder gone meanwhile, a disk error): say why; the session goes on.
      return { status: 'NO', text: `${command.name} failed: ${(err as Error).message}` };
    }
  }

  private wrongState(command: Command): Completion {
    if (this.state === 'not authenticated')
      return { status: 'NO', text: `${command.name} needs a login first: LOGIN user password` };
    if (command.states.includes('selected'))
      return { status: 'NO', text: `${command.name} needs a selected mailbox: SELECT INBOX first` };
    return {
      status: 'BAD',
      text: `${command.name} is not valid ${this.state === 'selected' ? 'now' : 'after login'}`,
    };
  }

  /** RFC 3501 §7.2.1: what the server can do, in this state, on this connection. */
  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT'];
    caps.push(
      'UIDPLUS',
      'MOVE',
      'CHILDREN',
      'SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'CONDSTORE',
      'ESEARCH',
      'MULTIAPPEND',
    );
    caps.push(`APPENDLIMIT=${this.server.limits.maxLiteralBytes}`);
    if (this.state === 'not authenticated') {
      if (!this.secure) caps.push('STARTTLS');
      caps.push(this.passwordsAllowed() ? 'AUTH=PLAIN' : 'LOGINDISABLED');
    }
    return caps;
  }

  /**
   * RFC 7162 §3.1: a CONDSTORE enabling command (ENABLE CONDSTORE, SELECT or EXAMINE (CONDSTORE),
   * FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE, STATUS HIGHESTMODSEQ) turns
   * CONDSTORE on for the rest of the connection: FETCH responses a flag change causes carry UID
   * and MODSEQ from then on. With a mailbox selected, the first one is answered with
   * `* OK [HIGHESTMODSEQ n]` (§3.1.2), the point the client's later CHANGEDSINCE starts from.
   * Returns false if CONDSTORE was on already.
   */
  enableCondstore(): boolean {
    if (this.enabled.has('CONDSTORE')) return false;
    this.enabled.add('CONDSTORE');
    if (this.selected)
      this.out.untagged(`OK [HIGHESTMODSEQ ${this.selected.highestModseq}] highest modification sequence`);
    return true;
  }

  /** RFC 3501 §6.2.3: a lab may refuse clear-text passwords before STARTTLS (mail.requireTlsForAuth). */
  passwordsAllowed(): boolean {
    return this.secure || !this.server.config.mail.requireTlsForAuth;
  }

  /** Checks a password; a wrong one costs a growing delay (LoginThrottle) before the NO. */
  async authenticate(login: string, password: string): Promise<Completion> {
    const { users, throttle, config, storage } = this.server;
    const { user } = await throttle.authenticate(users, {
      name: login,
      password,
      domain: config.domain,
      address: this.socket.remoteAddress ?? '',
      transcript: this.transcript, // Whose password the LOGIN or AUTHENTICATE lines were (Session.login).
    });
    if (!user) return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'wrong user name or password' };
    this.user = user;
    this.mailbox = await storage.mailbox(user);
    this.state = 'authenticated';
    return {
      status: 'OK',
      code: `CAPABILITY ${this.capabilities().join(' ')}`,
      text: `logged in as ${user}`,
    };
  }

  // --- the selected mailbox ------------------------------------------------------------------

  /** SELECT / EXAMINE: opens the view and follows the mailbox's changes. */
  async select(name: string, readOnly: boolean): Promise<MailboxView | null> {
    this.deselect();
    const canonical = canonicalMailbox(name);
    const folder = await this.mailbox!.folder(canonical);
    if (!folder) return null;
    const { snapshot, recent } = await lookAndTakeRecent(folder, readOnly);
    const view = new MailboxView(folder, canonical, readOnly, snapshot, new Set(recent));
    this.follow(view);
    this.selected = view;
    this.state = 'selected';
    return view;
  }

  /** CLOSE, UNSELECT, or a failed SELECT: back to the authenticated state. */
  deselect(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.selected = null;
    if (this.state === 'selected') this.state = 'authenticated';
  }

  /** Listens to the store's change feed for this mailbox (other sessions, SMTP deliveries). */
  private follow(view: MailboxView): void {
    const { changes } = this.server.storage;
    const mine = (c: { user: string; folder: string }) => c.user === this.user && c.folder === view.name;
    const added = (c: { user: string; folder: string }) => {
      if (mine(c)) {
        view.added();
        this.nudge();
      }
    };
    const flags = (c: FlagChange) => {
      if (mine(c)) {
        view.flagsChanged(c);
        this.nudge();
      }
    };
    const expunged = (c: { user: string; folder: string; uid: number }) => {
      if (mine(c)) {
        view.expunged(c.uid);
        this.nudge();
      }
    };
    changes.on('added', added);
    changes.on('flags', flags);
    changes.on('expunged', expunged);
    this.unsubscribe = () => {
      changes.off('added', added);
      changes.off('flags', flags);
      changes.off('expunged', expunged);
    };
  }

  /**
   * Called after the view noted a change. In IDLE, news goes out at once (RFC 2177 §3);
   * otherwise it waits for the end of a command.
   */
  private nudge(): void {
    if (this.idling && !this.telling) {
      this.telling = (async () => {
        // Let a burst of changes (a MOVE of 100 messages) arrive, then tell them in one go.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await this.tellNews({ expunges: true });
      })()
        .catch(() => undefined)
        .finally(() => {
          this.telling = null;
          if (this.idling && this.selected?.hasNews) this.nudge();
        });
    }
  }

  /** Waits until news being told in IDLE is out, so it cannot mix into the next command's answer. */
  async quiet(): Promise<void> {
    await this.telling;
  }

  /**
   * Sends the untagged updates owed to the client (RFC 3501 §5.2, §7.3.1, §7.4.1): EXPUNGE too if
   * `expunges` (not while sequence numbers must hold still); `poll` looks at the store even if the
   * change feed said nothing; `quick` does not wait behind other sessions' writes (see
   * MailboxView.sync).
   */
  async tellNews({
    expunges,
    poll = false,
    quick = false,
  }: {
    expunges: boolean;
    poll?: boolean;
    quick?: boolean;
  }): Promise<void> {
    const view = this.selected;
    if (!view) return;
    await view.sync({ poll, quick });
    for (const update of view.takeUpdates({ expunges, condstore: this.enabled.has('CONDSTORE') }))
      this.out.untagged(...update);
  }

  // --- the connection --------------------------------------------------------------------------

  /** RFC 3501 §6.2.1: after STARTTLS's OK, the TLS handshake on the same connection. */
  startTls(): void {
    const plain = this.socket;
    this.out.release();
    this.input.detach();
    plain.setTimeout(0);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.server.secureContext });
    secure.on('error', () => secure.destroy());
    this.socket = secure;
    this.out.socket = secure;
    this.secure = true;
    this.input.attach(secure);
    this.watch(secure);
  }

  private watch(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(AUTOLOGOUT_MS, () => {
      this.out.untagged('BYE autologout: idle for 30 minutes');
      socket.end();
    });
  }

  /** The command as the client sent it, literals summarized. */
  private recordClient(raw: RawCommand, credentials: boolean): void {
    if (!this.transcript) return;
    for (const piece of raw.pieces) {
      if (Buffer.isBuffer(piece))
        this.transcript.client(
          `{${piece.length} bytes of message data}`,
          credentials ? ['summary', 'credentials'] : ['summary'],
        );
      else this.transcript.client(piece, credentials ? ['credentials'] : []);
    }
  }

  close(): void {
    this.deselect();
    this.state = 'logout';
  }
}
