/**
 * The parts of ftp-srv 4.6.3 we use beyond its published types, and the two patches to its control
 * socket, named in one place so that an upgrade shows at a glance what to check. Read them in
 * node_modules/ftp-srv/src/connection.js and connector/.
 */
import type { Server, Socket } from 'node:net';
import type { FileSystem, FtpConnection as PublishedConnection, FtpServer as PublishedServer } from 'ftp-srv';
import ActiveModule from 'ftp-srv/src/connector/active.js';
import PassiveModule from 'ftp-srv/src/connector/passive.js';

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

export const PassiveConnector = ownConnector(PassiveModule as ConnectorClass);
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
