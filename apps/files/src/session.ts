import { closeSync } from 'node:fs';
import { isIPv6, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { LineReader } from '@portlab/service';
import type { Session } from '@portlab/transcript';
import { plainAddress } from '@portlab/transcript';
import type { FilesContext } from './context.js';
import { parseEprt, parsePort, type Target } from './data-address.js';
import { logDataConnection } from './data-log.js';
import {
  ActiveConnector,
  answerYourself,
  type FtpCommand,
  type FtpConnection,
  PassiveConnector,
  readCommandsYourself,
  watchReplies,
} from './ftp-srv-internals.js';
import { HotFiles } from './hot-files.js';
import { CONTROL_CHARACTERS, type Entry, type JailedFileSystem } from './jailed-fs.js';
import { commandData, replyData } from './line-data.js';
import { facts, lsLine } from './listing.js';
import { receive } from './receive.js';
import { ReplyError } from './reply-error.js';
import { send } from './send.js';
import { overDataConnection } from './transfer.js';
import type { Upload } from './upload.js';

/**
 * Before login, only what helps to log in safely (FEAT, AUTH TLS) and ftp-srv's own USER/PASS;
 * after, the rest. RFC 959 names no states; vsftpd and ProFTPD draw the same line (530 before login).
 */
type State = 'connected' | 'logged-in';

interface Command {
  /** The states the command is valid in. */
  states: State[];
  run(command: FtpCommand): Promise<unknown>;
}

/** Commands whose argument is a file name: a control character there gets 553, "file name not allowed". */
const NAME_COMMANDS = new Set([
  'STOR',
  'APPE',
  'RETR',
  'DELE',
  'MKD',
  'XMKD',
  'RMD',
  'XRMD',
  'RNFR',
  'RNTO',
  'CWD',
  'XCWD',
  'SIZE',
  'MDTM',
  'LIST',
  'NLST',
  'MLSD',
  'MLST',
]);

/** Files that downloads starting together read once (hot-files.ts): one for the app, as send.ts's buffers. */
const hotFiles = new HotFiles();

/** A command line longer than this is refused (RFC 959 sets no limit; a server must still set one). */
const MAX_LINE = 4096;

/** FEAT (RFC 2389): what this server supports beyond RFC 959. */
const FEATURES = [
  'AUTH TLS',
  'EPRT',
  'EPSV',
  'MDTM',
  'MLST type*;size*;modify*;',
  'PBSZ',
  'PROT',
  'REST STREAM',
  'SIZE',
  'UTF8',
];

/** How each listing command writes one entry on the data connection. */
const FORMATS: Record<'LIST' | 'NLST' | 'MLSD', (entry: Entry) => string> = {
  LIST: lsLine,
  NLST: (entry) => entry.name, // Names only (RFC 959 §4.1.3), what `mget *` expands.
  MLSD: (entry) => `${facts(entry)} ${entry.name}`,
};

/**
 * The transcript session of each control connection. The login finds it here, not by socket: after
 * AUTH TLS, ftp-srv's commandSocket is the TLS socket, and the runtime knows the TCP one.
 */
const transcripts = new WeakMap<FtpConnection, Session>();

export function transcriptOf(connection: FtpConnection): Session | undefined {
  return transcripts.get(connection);
}

/**
 * One FTP control connection, around ftp-srv's own connection object. The commands in the table
 * below are ours, one method per verb; every other one (USER, PASS, CWD, PWD, MKD, RMD, DELE,
 * RNFR/RNTO, SIZE, MDTM, REST, TYPE, PBSZ/PROT, QUIT…) goes to ftp-srv's handler, which does them
 * well. Why each of ours is ours:
 * - RETR, STOR, APPE, LIST, NLST: the 150 reply before the data connection (transfer.ts), the Upload
 *   (nothing half-stored), 552 for the quota, 426 for a broken transfer; ftp-srv replies 550 to all
 *   and writes the target file in place.
 * - PASV, EPSV: our port range (passive-ports.ts) and the data connection in the transcript.
 * - PORT, EPRT: the data connection in the transcript, no privileged ports, no bounce.
 * - AUTH: the switch to TLS without a byte read in clear after it.
 * - MLSD, MLST (RFC 3659): missing from ftp-srv; FEAT, to announce them.
 *
 * Around every command, ftp-srv's or ours:
 * - Lines: RFC 959 commands end with CRLF (a bare LF is accepted, for `nc`); ftp-srv cuts each TCP
 *   segment on CRLF and runs the pieces concurrently, so a command split across two segments broke.
 *   Here lines are reassembled and run one after the other.
 * - Transcript: each command as C:, PASS flagged 'credentials'; each reply as S:, the 234 that starts
 *   TLS flagged 'tls' (ftp-srv has no reply hook: the reply is read where it is written to the socket).
 * - Rules: connections per address, TLS before login (files.requireTls), names with control
 *   characters, the idle timeout.
 */
export class FtpSession {
  private readonly commands: Record<string, Command> = {
    FEAT: { states: ['connected', 'logged-in'], run: () => this.feat() },
    AUTH: { states: ['connected', 'logged-in'], run: (c) => this.auth(c) },
    PASV: { states: ['logged-in'], run: () => this.passive(false) },
    EPSV: { states: ['logged-in'], run: () => this.passive(true) },
    PORT: { states: ['logged-in'], run: (c) => this.active(c, parsePort(c.arg ?? '')) },
    EPRT: { states: ['logged-in'], run: (c) => this.active(c, parseEprt(c.arg ?? '')) },
    RETR: { states: ['logged-in'], run: (c) => this.retr(c) },
    STOR: { states: ['logged-in'], run: (c) => this.store(c, false) },
    APPE: { states: ['logged-in'], run: (c) => this.store(c, true) },
    LIST: { states: ['logged-in'], run: (c) => this.list(c, 'LIST') },
    NLST: { states: ['logged-in'], run: (c) => this.list(c, 'NLST') },
    MLSD: { states: ['logged-in'], run: (c) => this.list(c, 'MLSD') },
    MLST: { states: ['logged-in'], run: (c) => this.mlst(c) },
  };

  /** Commands run one after the other, in order: each waits for the one before it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Changes when TLS starts: lines read before it and still waiting are dropped with the clear text. */
  private epoch = 0;
  /** ABORs read while the transfer they stop still runs: counted, so the transfer can see them. */
  private aborts = 0;
  /** Commands read and not finished: a transfer in progress keeps the session from timing out. */
  private busy = 0;
  private readonly lines: LineReader;
  /** The socket commands are read from: the TCP one, then the TLSSocket over it after AUTH TLS. */
  private reading: Socket;
  private idle: NodeJS.Timeout | undefined;
  private readonly read = (chunk: Buffer) => this.lines.push(chunk);

  constructor(
    private readonly connection: FtpConnection,
    private readonly files: FilesContext,
    private readonly transcript: Session | undefined,
  ) {
    this.reading = connection.commandSocket;
    this.lines = new LineReader(
      MAX_LINE,
      (line) => this.enqueue(line),
      () => void this.connection.reply(500, `Line too long (over ${MAX_LINE} characters)`),
    );
  }

  /** Takes over the control connection ftp-srv just accepted ('connect' comes before its greeting). */
  start(): void {
    const { connection, files, transcript } = this;
    const { config } = files;
    const first = connection.commandSocket;
    // Each reply goes out as it is written (TCP_NODELAY), as Telnet-like dialogues want: otherwise
    // Nagle's algorithm holds a reply while the one before is unacknowledged, and a client that
    // waits before acknowledging (delayed ACK, 40 ms on Linux) saw the 226 after a RETR's 150, and
    // the second line of a multi-line reply, 40 ms late.
    first.setNoDelay(true);
    answerYourself(connection); // Before ftp-srv's 220 greeting, which goes out through it.
    if (transcript) transcripts.set(connection, transcript);
    const address = plainAddress(first.remoteAddress, '?');
    if (!this.admit(address, first)) {
      const max = config.files.maxConnectionsPerAddress;
      const refusal = `421 Too many connections from ${address} (at most ${max}): close one, then retry.`;
      transcript?.server(refusal);
      first.end(`${refusal}\r\n`); // ftp-srv's greeting that follows finds the socket closed.
      return;
    }
    if (transcript) {
      watchReplies(connection, (line) =>
        transcript.server(line, line.startsWith('234 ') ? ['tls'] : undefined, replyData(line)),
      );
    }
    const idle = setTimeout(() => {
      if (this.busy > 0) return idle.refresh(); // A transfer in progress keeps the session alive.
      void connection.close(
        421,
        `No command for ${config.files.idleTimeoutSeconds} s: closing the control connection`,
      );
    }, config.files.idleTimeoutSeconds * 1000);
    this.idle = idle;
    first.once('close', () => clearTimeout(idle));
    readCommandsYourself(connection);
    this.readFrom(first);
  }

  // --- Before login --------------------------------------------------------------------------

  /** FEAT (RFC 2389): so a client knows it may use MLSD, resume with REST, or secure the session first. */
  private feat(): Promise<unknown> {
    const lines = FEATURES.map((f) => ({ raw: true, message: ` ${f}` }));
    return this.connection.reply(211, 'Extensions supported:', ...lines, 'End');
  }

  /**
   * AUTH TLS (RFC 4217 §4): the client asks to secure the control connection; the server answers 234,
   * and the next bytes on the connection are the TLS handshake. Ours rather than ftp-srv's, because
   * of the moment of the switch: reading stops before the 234 goes out, so no byte the client sends
   * after it (its ClientHello) is read as a clear-text command, and clear text the client sent before
   * the handshake is dropped (the STARTTLS command injection, CVE-2011-0411).
   */
  private async auth(command: FtpCommand): Promise<unknown> {
    const { connection } = this;
    if (command.arg?.toUpperCase() !== 'TLS')
      return connection.reply(504, 'AUTH TLS is the mechanism offered (RFC 4217)');
    if (connection.secure) return connection.reply(503, 'The connection is already secured with TLS');
    const clear = connection.commandSocket;
    // Paused, bytes wait in the socket for the TLSSocket to take them; not paused, with no listener
    // left, they would be read and lost.
    this.reading.off('data', this.read);
    this.reading.pause();
    this.epoch++;
    this.lines.reset();
    await connection.reply(234, 'AUTH TLS OK: start the TLS handshake');
    // Bytes already read (the ClientHello may be) go to TLS: the TLSSocket takes them from `clear`.
    const secure = new TLSSocket(clear, {
      isServer: true,
      secureContext: createSecureContext(this.files.tls),
    });
    this.readFrom(secure);
    // ftp-srv's connection listens on the first socket: the secure one's events are passed on to it,
    // as ftp-srv's own AUTH does.
    for (const event of ['timeout', 'end', 'close', 'drain', 'error']) {
      secure.on(event, (...args: unknown[]) => clear.emit(event, ...args));
    }
    connection.commandSocket = secure;
    connection.secure = true;
  }

  // --- The data connection -------------------------------------------------------------------

  /**
   * PASV (RFC 959 §4.1.1) and EPSV (RFC 2428 §3): the server listens on a data port and tells the
   * client where to connect. PASV writes the address and port as six numbers, the port as two bytes:
   * (127,0,0,1,32,8) is port 32×256+8 = 8200. EPSV gives the port alone, and works over IPv6.
   * Passive mode exists because the client dials both connections: it works through the NAT and
   * firewalls in front of clients, where active mode's connection back to the client is blocked.
   * The address PASV names is the lab's public address (config.publicAddress), the one students type:
   * with host 0.0.0.0 the control connection's own local address may be one they cannot reach.
   */
  private async passive(extended: boolean): Promise<unknown> {
    const { connection, files, transcript } = this;
    const address = files.config.publicAddress;
    if (!extended && isIPv6(address)) {
      return connection.reply(501, 'PASV can only name an IPv4 address (RFC 959): use EPSV (RFC 2428)');
    }
    connection.connector.end(); // A data port taken by an earlier PASV and never used is given back.
    const connector = new PassiveConnector(connection);
    connection.connector = connector;
    let server: Server;
    try {
      server = await connector.setupServer(); // Listens on files.passivePorts.acquire().
    } catch (err) {
      return this.replyError(err);
    }
    const { port } = server.address() as { port: number };
    files.passivePorts.attach(port, server);
    // With PROT P the data connection is TLS too (RFC 4217 §9): count it once its handshake is done.
    server.on(connection.secure ? 'secureConnection' : 'connection', (socket: Socket) =>
      logDataConnection(transcript, socket, 'passive', `data port ${port}`),
    );
    if (extended) {
      await connection.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
      transcript?.server(`EPSV reply decoded: (|||${port}|) -> data port ${port}`, ['data']);
      return;
    }
    const numbers = `${address.replaceAll('.', ',')},${port >> 8},${port & 255}`;
    await connection.reply(227, `Entering Passive Mode (${numbers}).`);
    transcript?.server(
      `227 ... (${numbers}) -> data port ${port} (${port >> 8}×256+${port & 255}) on ${address}`,
      ['data'],
    );
  }

  /**
   * PORT (RFC 959 §4.1.2) and EPRT (RFC 2428 §2): active mode, the original one. The client listens
   * and the server connects back to it for each transfer — which a NAT or firewall in front of the
   * client usually blocks, the reason passive mode exists. Only to the client's own address and an
   * unprivileged port: a server that connects wherever it is told can be made to attack others (the
   * FTP bounce attack, RFC 2577 §3).
   */
  private async active(command: FtpCommand, target: Target | null): Promise<unknown> {
    const { connection, transcript } = this;
    const { directive } = command;
    if (!target) return connection.reply(501, 'Syntax: PORT 127,0,0,1,200,10 or EPRT |1|127.0.0.1|51210|');
    const client = plainAddress(connection.commandSocket.remoteAddress);
    if (target.host !== client) {
      return connection.reply(
        501,
        `Data connections go to your own address (${client}) only: see RFC 2577 §3`,
      );
    }
    if (target.port < 1024) return connection.reply(501, 'Data connections go to ports 1024 and above only');
    // The server dials at once (ftp-srv's active connector), so this line comes before the reply.
    transcript?.server(`${directive} decoded: the server connects to ${target.host} port ${target.port}`, [
      'data',
    ]);
    connection.connector.end();
    const connector = new ActiveConnector(connection);
    connection.connector = connector;
    try {
      await connector.setupConnection(target.host, target.port, target.family);
    } catch (err) {
      return this.replyError(err);
    }
    const socket = connector.dataSocket!;
    socket.once('connect', () =>
      logDataConnection(transcript, socket, 'active', 'the server dialled the client'),
    );
    return connection.reply(
      200,
      `${directive} OK: the next transfer connects to ${target.host} port ${target.port}`,
    );
  }

  // --- Transfers -----------------------------------------------------------------------------

  /**
   * RETR (RFC 959 §4.1.3), resumed at the offset of a REST before it (RFC 3659 §5): `curl -C -` and
   * `reget` in lftp send REST with the size they already have.
   */
  private async retr(command: FtpCommand): Promise<unknown> {
    const start = this.takeRestOffset();
    let file: Awaited<ReturnType<JailedFileSystem['read']>>;
    try {
      file = await this.fs.read(required(command, 'a file name'));
    } catch (err) {
      return this.refuse(err);
    }
    const { fd, clientPath, stats } = file;
    const bytes = Math.max(Number(stats.size) - start, 0);
    try {
      await overDataConnection(this.connection, `Sending ${clientPath} (${bytes} bytes)`, async (socket) => {
        await send((await hotFiles.get(fd, stats)) ?? fd, start, socket);
        return `${clientPath}: ${bytes} bytes sent`;
      });
    } finally {
      closeSync(fd);
    }
  }

  /**
   * STOR and APPE (RFC 959 §4.1.3), and STOR after REST to resume an upload (RFC 3659 §5). The path
   * and the quota are checked before the data connection is used, so a refusal (550, 552, 553) comes
   * before any byte is sent; the bytes then go through an Upload, stored only once whole.
   */
  private async store(command: FtpCommand, append: boolean): Promise<unknown> {
    const { connection } = this;
    const start = this.takeRestOffset();
    let upload: Upload;
    try {
      upload = await this.fs.write(required(command, 'a file name'), {
        append,
        start,
        stillWanted: () =>
          connection.commandSocket.destroyed
            ? 'the control connection closed during the transfer'
            : this.aborts > 0
              ? 'aborted by ABOR'
              : null,
      });
    } catch (err) {
      return this.refuse(err);
    }
    try {
      await overDataConnection(connection, `Receiving ${upload.clientPath}`, async (socket) => {
        await receive(socket, upload);
        await upload.store();
        return `${upload.clientPath}: stored, ${upload.size} bytes`;
      });
    } finally {
      await upload.discard(); // Removes the temp file if the upload never finished; nothing once stored.
    }
  }

  /**
   * LIST, NLST and MLSD: a folder's entries, one per line, on the data connection (listing.ts says
   * each format). LIST and NLST of a file describe that file; MLSD of a file is an error (RFC 3659
   * §7.2.1: MLST is for one file).
   */
  private async list(command: FtpCommand, verb: keyof typeof FORMATS): Promise<unknown> {
    const { fs } = this;
    const format = FORMATS[verb];
    // Clients send ls options (`LIST -la`); like vsftpd, they are ignored.
    const name = (command.arg ?? '').replace(/^(-\w+\s*)+/, '') || '.';
    let entries: Entry[];
    try {
      const target = await fs.get(name);
      if (target.isDirectory()) entries = await fs.list(name);
      else if (verb === 'MLSD')
        throw new ReplyError(501, `${fs.where(name)}: not a folder (MLST describes one file)`);
      else entries = [target];
    } catch (err) {
      return this.refuse(err);
    }
    const text = entries.map((e) => `${format(e)}\r\n`).join('');
    await overDataConnection(this.connection, `Listing ${fs.where(name)}`, async (socket) => {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.end(text, resolve);
      });
      return `${entries.length} entries listed`;
    });
  }

  /** MLST: the facts of one file or folder, on the control connection (RFC 3659 §7.2). */
  private async mlst(command: FtpCommand): Promise<unknown> {
    const { fs } = this;
    try {
      const entry = await fs.get(command.arg ?? '.');
      const at = fs.where(command.arg);
      return this.connection.reply(
        250,
        `Listing ${at}`,
        { raw: true, message: ` ${facts(entry)} ${at}` },
        'End',
      );
    } catch (err) {
      return this.replyError(err);
    }
  }

  // --- Reading and running commands ----------------------------------------------------------

  /** A line read: run after those before it, unless TLS started in between. */
  private enqueue(line: string): void {
    if (!line) return; // an empty line (Enter pressed twice in nc) is no command
    this.idle?.refresh();
    this.busy++;
    const readIn = this.epoch;
    // Clients may put Telnet "interrupt" bytes before ABOR (RFC 959 §4.1.3): look at its end.
    const abort = /ABOR\s*$/i.test(line);
    if (abort) this.aborts++;
    this.queue = this.queue
      .then(() => (readIn === this.epoch ? this.execute(line) : undefined))
      .catch(() => undefined)
      .finally(() => {
        this.busy--;
        if (abort) this.aborts--;
      });
  }

  private async execute(line: string): Promise<unknown> {
    const { connection, files } = this;
    const command = connection.commands.parse(line);
    const { directive } = command;
    this.transcript?.client(
      line,
      directive === 'PASS' ? ['credentials'] : undefined,
      commandData(directive, line),
    );
    if (CONTROL_CHARACTERS.test(line)) {
      const code = NAME_COMMANDS.has(directive) ? 553 : 501;
      return connection.reply(
        code,
        'Control characters are not allowed in names: they hide in listings and break terminals',
      );
    }
    if (
      (directive === 'USER' || directive === 'PASS') &&
      files.config.files.requireTls &&
      !connection.secure
    ) {
      // vsftpd's answer to the same rule (force_local_logins_ssl); RFC 4217 §4 has the client send AUTH TLS first.
      return connection.reply(
        530,
        'This server requires TLS before login: send AUTH TLS first (files.requireTls)',
      );
    }
    const own = this.commands[directive];
    if (!own) return connection.commands.handle(command);
    if (!own.states.includes(this.state)) return connection.reply(530, 'Log in first: USER, then PASS');
    return own.run(command);
  }

  private get state(): State {
    return this.connection.authenticated ? 'logged-in' : 'connected';
  }

  private readFrom(socket: Socket): void {
    this.reading = socket;
    socket.on('data', this.read);
  }

  // --- Helpers -------------------------------------------------------------------------------

  /** The logged-in user's files (commands that use it run only in the 'logged-in' state). */
  private get fs(): JailedFileSystem {
    return this.connection.fs as JailedFileSystem;
  }

  /** REST's offset, for the one transfer that follows it (RFC 3659 §5.3). */
  private takeRestOffset(): number {
    const start = this.connection.restByteCount ?? 0;
    this.connection.restByteCount = 0;
    return start;
  }

  /**
   * A refusal before a transfer: the data port prepared for it is given back, a turn of the event
   * loop later. Most clients connect to the data port before they send the command; closing a
   * listening socket resets the connections still in its queue, and some clients (basic-ftp) give
   * up the whole session on that reset. A turn later the connection is accepted, and closed as a
   * connection: the client reads the 550, and an end of the data connection.
   */
  private refuse(err: unknown): Promise<unknown> {
    const { connector } = this.connection;
    setImmediate(() => connector.end());
    return this.replyError(err);
  }

  /** Sends a refusal: our ReplyErrors carry their code; anything else is a local error (451). */
  private replyError(err: unknown): Promise<unknown> {
    if (err instanceof ReplyError) return this.connection.reply(err.code, err.message);
    return this.connection.reply(451, 'Local error in processing: the action was not taken');
  }

  /** Counts the connection against its address's limit; false if it is one too many. */
  private admit(address: string, socket: Socket): boolean {
    const counts = this.files.connectionsByAddress;
    counts.set(address, (counts.get(address) ?? 0) + 1);
    socket.once('close', () => {
      const left = (counts.get(address) ?? 1) - 1;
      if (left === 0) counts.delete(address);
      else counts.set(address, left);
    });
    return counts.get(address)! <= this.files.config.files.maxConnectionsPerAddress;
  }
}

/** The argument a command cannot do without, or a 501 that says what to send. */
function required(command: FtpCommand, what: string): string {
  if (!command.arg) throw new ReplyError(501, `${command.directive} needs ${what}`);
  return command.arg;
}
