/**
 * The parts of ftp-srv 4.6.3 we use beyond its published types, and the two patches to its control
 * socket, named in one place so that an upgrade shows at a glance what to check. Read them in
 * node_modules/ftp-srv/src/connection.js and connector/.
 */
import type { Server, Socket } from 'node:net';
import type { FileSystem, FtpConnection as PublishedConnection, FtpServer as PublishedServer } from 'ftp-srv';
import ActiveModule from 'ftp-srv/src/connector/active.js';
import PassiveModule from 'ftp-srv/src/connector/passive.js';
import DEFAULT_MESSAGES from 'ftp-srv/src/messages.js';

/** A parsed command line, as ftp-srv's `commands.parse` returns it. */
export interface FtpCommand {
  directive: string;
  arg: string | null;
  raw: string;
}

/** The data connection of one transfer: a listening server (passive) or a socket we dial (active). */
export interface Connector {
  connection: FtpConnection;
  type: 'passive' | 'active' | false;
  dataServer: Server | null;
  dataSocket: Socket | null;
  /** Resolves with the data socket once it is connected (and its TLS handshake done), within 5 s. */
  waitForConnection(): Promise<Socket>;
  /** Closes the data socket and server. */
  end(): void;
  /** Passive: listens on the port `server.getNextPasvPort()` gives. */
  setupServer(): Promise<Server>;
  /** Active: dials the client's address and port. */
  setupConnection(host: string, port: number, family?: number): Promise<void>;
}

export interface FtpConnection extends Omit<PublishedConnection, 'close'> {
  /** Replies `code message` (421 by default), then closes the control connection. */
  close(code?: number, message?: string): Promise<unknown>;
  /** The control connection; ftp-srv replaces it with a TLSSocket after AUTH TLS. */
  commandSocket: Socket;
  connector: Connector;
  commands: {
    parse(line: string): FtpCommand;
    handle(command: FtpCommand): Promise<unknown>;
  };
  authenticated?: boolean;
  username?: string;
  fs?: FileSystem;
}

export interface FtpServer extends PublishedServer {
  /** The net.Server (ftp://) or tls.Server (ftps://) ftp-srv made; `listen()` is never called on it. */
  server: Server;
  /** Where passive mode gets each data port. */
  getNextPasvPort: () => Promise<number>;
}

type ConnectorClass = new (connection: FtpConnection) => Connector;

/**
 * ftp-srv's connectors, with one fix: its end() sets `connection.connector` back to an empty one
 * unconditionally, and a passive data server calls it again when it finishes closing, a moment later.
 * By then the client may have sent the next PASV: its connector was erased and the transfer got 425.
 * Here a connector that is no longer the connection's own leaves it alone.
 */
function ownConnector(Base: ConnectorClass): ConnectorClass {
  return class extends Base {
    override end(): void {
      const current = this.connection.connector;
      super.end();
      if (current !== this) this.connection.connector = current;
    }
  };
}

/**
 * ftp-srv's passive connector, with a second fix: a data connection from an address other than the
 * control connection's made ftp-srv answer 550 and close the *control* connection, so a classmate
 * who dialled the passive ports in turn ended everyone's sessions (CVE-1999-0351, "pizza thief").
 * RFC 2577 §8 (port stealing) asks for the data connection to come from the client's address: here
 * one that does not is dropped before TLS or ftp-srv sees it, and the port goes on waiting for the
 * client. 'connection' is the plain TCP connection, for ftp:// and ftps:// data servers alike.
 */
class PassiveFromClientOnly extends ownConnector(PassiveModule as ConnectorClass) {
  override async setupServer(): Promise<Server> {
    const server = await super.setupServer();
    const [accept] = server.listeners('connection') as ((socket: Socket) => void)[];
    if (accept) {
      server.removeListener('connection', accept);
      server.on('connection', (socket: Socket) => {
        if (sameAddress(socket.remoteAddress, this.connection.commandSocket.remoteAddress)) {
          accept.call(server, socket);
        } else {
          socket.destroy();
        }
      });
    }
    return server;
  }
}

/** Two socket addresses, an IPv4 one possibly written IPv4-mapped (::ffff:127.0.0.1). */
function sameAddress(a: string | undefined, b: string | undefined): boolean {
  const plain = (address: string | undefined) => address?.replace(/^::ffff:/i, '');
  return a !== undefined && plain(a) === plain(b);
}

export const PassiveConnector: ConnectorClass = PassiveFromClientOnly;
export const ActiveConnector = ownConnector(ActiveModule as ConnectorClass);

/**
 * ftp-srv reads the control socket with its own 'data' listener, which cuts each TCP segment on CRLF
 * and runs the pieces concurrently. The session (session.ts) reads the lines itself: ftp-srv's
 * listener is removed, and commands reach ftp-srv only through `connection.commands.handle`.
 */
export function readCommandsYourself(connection: FtpConnection): void {
  connection.commandSocket.removeAllListeners('data');
}

/**
 * Calls `onLine` with each reply line as it goes on the wire: ftp-srv has no reply hook, and writes
 * its replies with `commandSocket.write`. ftp-srv swaps the control socket for a TLSSocket after
 * AUTH TLS (and so does our AUTH); the property is wrapped so that the new socket is watched too.
 */
export function watchReplies(connection: FtpConnection, onLine: (line: string) => void): void {
  const watch = (socket: Socket) => {
    const write = socket.write;
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      for (const line of String(chunk).split('\r\n')) if (line) onLine(line);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Socket['write'];
  };
  let current = connection.commandSocket;
  watch(current);
  Object.defineProperty(connection, 'commandSocket', {
    configurable: true,
    get: () => current,
    set: (socket: Socket) => {
      current = socket;
      watch(socket);
    },
  });
}

/** What ftp-srv's `connection.reply(options, ...letters)` takes: see `answerYourself`. */
type ReplyOptions = { code?: number; socket?: Socket; useEmptyMessage?: boolean; eol?: boolean };
type Letter =
  | { message?: unknown; raw?: boolean; code?: number; socket?: Socket; encoding?: BufferEncoding }
  | string
  | null
  | undefined;

/**
 * Replaces ftp-srv's `connection.reply` with one that writes the same bytes, line for line, without
 * its way there. Why: ftp-srv's reply builds each line through a chain of bluebird promises
 * (Promise.map, then Promise.mapSeries), writes line after line each behind the previous write's
 * callback, and evaluates its trace log's arguments even when nothing logs, one of them a
 * getsockname(2) per line. With 50 clients logged in at once, that path was a quarter of the
 * server's processor time outside the transfers themselves (`npm run bench -- ftp --rows=parallel
 * --profile=DIR`).
 *
 * The rules are ftp-srv 4.6.3's (connection.js reply()), kept exactly, as its own handlers and ours
 * rely on them: `reply(code, ...letters)`, each letter a message or `{message, raw, code, socket}`;
 * every line but the last joins code and message with "-" (RFC 959 §4.2 multi-line replies), the
 * last with " "; a raw letter is written as it is; a missing (or empty, or 0) message is replaced by
 * ftp-srv's text for the code. The promise resolves once the lines are handed to the kernel, and
 * never rejects (ftp-srv's logs and drops a write error: the socket's 'error' says it).
 */
export function answerYourself(connection: FtpConnection): void {
  connection.reply = (options: number | ReplyOptions = {}, ...letters: unknown[]) => {
    const settings: ReplyOptions = typeof options === 'number' ? { code: options } : options;
    // ftp-srv lets a letter or its message be a promise; none of ours is, but its handlers may.
    if (letters.some(isThenable) || letters.some((l) => isThenable((l as { message?: unknown })?.message))) {
      return Promise.all(
        letters.map(async (l) => {
          const letter = (await l) as Letter;
          return typeof letter === 'object' && letter !== null
            ? { ...letter, message: await letter.message }
            : letter;
        }),
      ).then((resolved) => write(connection, settings, resolved));
    }
    return write(connection, settings, letters as Letter[]);
  };
}

function write(connection: FtpConnection, options: ReplyOptions, given: Letter[]): Promise<void> {
  const letters: Letter[] = given.length > 0 ? given : [{}];
  const last = letters.length - 1;
  let pending: Promise<void> = Promise.resolve();
  for (let index = 0; index <= last; index++) {
    const found = letters[index];
    const letter = typeof found === 'string' ? { message: found } : (found ?? {});
    const socket = letter.socket ?? options.socket ?? connection.commandSocket;
    let line = '';
    let encoding: BufferEncoding | undefined;
    if (!options.useEmptyMessage) {
      const message = letter.message || (options.code && DEFAULT_MESSAGES[options.code]) || 'No information';
      // The last line ends a multi-line reply (" "), others continue it ("-"), unless `eol` says.
      const separator = (Object.hasOwn(options, 'eol') ? options.eol : index === last) ? ' ' : '-';
      const code = letter.code || options.code;
      line = letter.raw ? String(message) : [code, message].filter(Boolean).join(separator);
      encoding = letter.encoding ?? (connection.encoding as BufferEncoding);
    }
    // ftp-srv stops at a socket it cannot write to, and says nothing more.
    if (!socket?.writable) break;
    pending = new Promise((resolve) => {
      socket.write(`${line}\r\n`, encoding as BufferEncoding, () => resolve());
    });
  }
  return pending;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
