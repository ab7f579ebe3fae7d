import type { Socket } from 'node:net';
import { LineReader } from '@portlab/service';
import type { Flag, Session } from '@portlab/transcript';
import { plainAddress } from '@portlab/transcript';
import { COMMANDS } from './commands/index.js';
import type { FilesContext } from './context.js';
import type { FtpConnection } from './ftp-srv-internals.js';
import { CONTROL_CHARACTERS } from './jailed-fs.js';
import { commandData, replyData } from './line-data.js';

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

/** A command line longer than this is refused (RFC 959 sets no limit; a server must still set one). */
const MAX_LINE = 4096;

/**
 * The control connection of one FTP session, around ftp-srv's own connection object: this is where
 * the app's rules apply before ftp-srv sees a command, and where the transcript is written.
 *
 * - Lines: RFC 959 commands end with CRLF (a bare LF is accepted, for `nc`); ftp-srv cuts each TCP
 *   segment on CRLF and runs the pieces concurrently, so a command split across two segments broke.
 *   Here lines are reassembled and run one after the other.
 * - Transcript: each command as C:, PASS flagged 'credentials'; each reply as S:, the 234 that starts
 *   TLS flagged 'tls' (ftp-srv has no reply hook: the reply is read where it is written to the socket).
 * - Rules: connections per address, TLS before login (files.requireTls), names with control
 *   characters, the idle timeout.
 */
/**
 * The transcript session of each control connection. The login finds it here, not by socket: after
 * AUTH TLS, ftp-srv's commandSocket is the TLS socket, and the runtime knows the TCP one.
 */
const transcripts = new WeakMap<FtpConnection, Session>();

export function transcriptOf(connection: FtpConnection): Session | undefined {
  return transcripts.get(connection);
}

export function attachControl(connection: FtpConnection, files: FilesContext): void {
  const { config, runtime } = files;
  const first = connection.commandSocket;
  const session = runtime.sessionOf(first);
  if (session) transcripts.set(connection, session);
  const address = plainAddress(first.remoteAddress, '?');

  if (!admit(files, address, first)) {
    const max = config.files.maxConnectionsPerAddress;
    const refusal = `421 Too many connections from ${address} (at most ${max}): close one, then retry.`;
    session?.server(refusal);
    first.end(`${refusal}\r\n`); // ftp-srv's greeting that follows finds the socket closed.
    return;
  }
  recordReplies(connection, session);

  let busy = 0;
  const idleMs = config.files.idleTimeoutSeconds * 1000;
  const idle = setTimeout(function expire() {
    if (busy > 0) return idle.refresh(); // A transfer in progress keeps the session alive.
    void connection.close(
      421,
      `No command for ${config.files.idleTimeoutSeconds} s: closing the control connection`,
    );
  }, idleMs);
  first.once('close', () => clearTimeout(idle));

  const dispatch = async (line: string): Promise<void> => {
    const command = connection.commands.parse(line);
    const { directive } = command;
    session?.client(line, directive === 'PASS' ? ['credentials'] : undefined, commandData(directive, line));
    if (CONTROL_CHARACTERS.test(line)) {
      const code = NAME_COMMANDS.has(directive) ? 553 : 501;
      await connection.reply(
        code,
        'Control characters are not allowed in names: they hide in listings and break terminals',
      );
      return;
    }
    if ((directive === 'USER' || directive === 'PASS') && config.files.requireTls && !connection.secure) {
      // vsftpd's answer to the same rule (force_local_logins_ssl); RFC 4217 §4 has the client send AUTH TLS first.
      await connection.reply(
        530,
        'This server requires TLS before login: send AUTH TLS first (files.requireTls)',
      );
      return;
    }
    const own = COMMANDS.get(directive);
    if (!own) {
      await connection.commands.handle(command);
      return;
    }
    if (!own.beforeLogin && !connection.authenticated) {
      await connection.reply(530, 'Log in first: USER, then PASS');
      return;
    }
    await own.run({ connection, command, session, files, control });
  };

  // Commands run one after the other, in order. `epoch` changes when TLS starts (commands/auth.ts):
  // lines read before and still waiting are then dropped with the rest of the clear text.
  // An ABOR is read while the transfer it stops still runs: counted, so the transfer can see it.
  let queue = Promise.resolve();
  let epoch = 0;
  let aborts = 0;
  const lines = new LineReader(
    MAX_LINE,
    (line) => {
      if (!line) return; // an empty line (Enter pressed twice in nc) is no command
      idle.refresh();
      busy++;
      const readIn = epoch;
      // Clients may put Telnet "interrupt" bytes before ABOR (RFC 959 §4.1.3): look at its end.
      const abort = /ABOR\s*$/i.test(line);
      if (abort) aborts++;
      queue = queue
        .then(() => (readIn === epoch ? dispatch(line) : undefined))
        .catch(() => undefined)
        .finally(() => {
          busy--;
          if (abort) aborts--;
        });
    },
    () => void connection.reply(500, `Line too long (over ${MAX_LINE} characters)`),
  );
  const read = (chunk: Buffer) => lines.push(chunk);
  let reading = first;
  const control = {
    beginTls() {
      // Paused, bytes wait in the socket for the TLSSocket to take them; not paused, with no
      // listener left, they would be read and lost.
      reading.off('data', read);
      reading.pause();
      epoch++;
      lines.reset();
    },
    readFrom(socket: Socket) {
      reading = socket;
      socket.on('data', read);
    },
    abortPending: () => aborts > 0,
  };
  // ftp-srv reads the socket with its own 'data' listener: ours replaces it.
  first.removeAllListeners('data');
  control.readFrom(first);
}

/** Counts the connection against its address's limit; false if it is one too many. */
function admit(files: FilesContext, address: string, socket: Socket): boolean {
  const counts = files.connectionsByAddress;
  counts.set(address, (counts.get(address) ?? 0) + 1);
  socket.once('close', () => {
    const left = (counts.get(address) ?? 1) - 1;
    if (left === 0) counts.delete(address);
    else counts.set(address, left);
  });
  return counts.get(address)! <= files.config.files.maxConnectionsPerAddress;
}

/**
 * Writes each reply line to the transcript as it goes on the wire. ftp-srv swaps the control socket
 * for a TLSSocket after AUTH TLS; the property is wrapped so the new socket is watched too.
 */
function recordReplies(connection: FtpConnection, session: Session | undefined): void {
  if (!session) return;
  const watch = (socket: Socket) => {
    const write = socket.write;
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      for (const line of String(chunk).split('\r\n')) {
        if (!line) continue;
        const flags: Flag[] | undefined = line.startsWith('234 ') ? ['tls'] : undefined;
        session.server(line, flags, replyData(line));
      }
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
