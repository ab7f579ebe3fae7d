/**
 * The parts of smtp-server we use beyond its documented API, named in one place so that an upgrade
 * shows at a glance what to check. Checked against smtp-server 3.21.6 (`SMTP_SERVER_CHECKED`): read
 * them in node_modules/smtp-server/dist/esm/smtp-connection.js, smtp-stream.js and smtp-server.js.
 * The library ships its own types for them (the `_` members are public in its .d.ts), so a rename
 * fails the build; `INTERNALS` lists them for test/smtp-server-internals.test.ts, which checks each
 * one on a real SMTPServer connection, so that a removal fails loudly too.
 *
 * The rest of apps/mail/src/smtp goes through this file: it imports nothing from smtp-server/lib.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type * as server from 'smtp-server';
import type * as connection from 'smtp-server/lib/smtp-connection.js';
import type { SMTPConnectionOptions, TLSError } from 'smtp-server/lib/smtp-connection.js';
import type * as stream from 'smtp-server/lib/smtp-stream.js';

export type { SMTPConnectionOptions, TLSError };

/*
 * smtp-server's CommonJS build, not its ES one: that one imports nodemailer's ES build, whose fetch
 * module imports node:http, and on Node 22+ an ES import of node:http loads undici, about 3 MB of
 * heap held by the mail app for as long as it runs (issue #20, idle memory; nodejs/node#59686).
 * Every value of smtp-server comes from here, so that one copy of its classes is used (`instanceof`).
 */
const require = createRequire(import.meta.url);
export const { SMTPServer } = require('smtp-server') as typeof server;
export type SMTPServer = server.SMTPServer;
export const { SMTPConnection } = require('smtp-server/lib/smtp-connection.js') as typeof connection;
export type SMTPConnection = connection.SMTPConnection;
export const { SMTPStream } = require('smtp-server/lib/smtp-stream.js') as typeof stream;
export type SMTPStream = stream.SMTPStream;

/** The version whose source these accesses were read in. */
export const SMTP_SERVER_CHECKED = '3.21.6';

type Kind = 'field' | 'method';

/**
 * Every member of smtp-server's classes we read, write, call or override without it being
 * documented, and why. `owner`: the class holding it (on a connection, on its parser, on the server).
 */
export const INTERNALS: readonly {
  owner: 'connection' | 'parser' | 'server';
  member: string;
  kind: Kind;
  why: string;
}[] = [
  // SMTPConnection
  {
    owner: 'connection',
    member: '_socket',
    kind: 'field',
    why: "the TCP socket: keep the runtime's 'close' listeners across STARTTLS (connection.ts)",
  },
  {
    owner: 'connection',
    member: '_server',
    kind: 'field',
    why: 'maxClients and the open connections, for the greeting (startSession)',
  },
  {
    owner: 'connection',
    member: '_nextHandler',
    kind: 'field',
    why: 'not false during an AUTH exchange: its lines are flagged credentials in the transcript',
  },
  {
    owner: 'connection',
    member: '_createParser',
    kind: 'method',
    why: 'overridden: the parser is HandTypedInput (bare LF, long lines: input.ts)',
  },
  {
    owner: 'connection',
    member: '_onCommand',
    kind: 'method',
    why: 'called by our parser for each command line, after the transcript saw it',
  },
  {
    owner: 'connection',
    member: '_setListeners',
    kind: 'method',
    why: 'called by startSession as by init(): socket listeners, idle timeout, pipe to the parser',
  },
  {
    owner: 'connection',
    member: 'connectionReady',
    kind: 'method',
    why: 'called by startSession after the greeting pause: onConnect, then the 220',
  },
  {
    owner: 'connection',
    member: 'init',
    kind: 'method',
    why: 'overridden by startSession: its 100 ms pause before the greeting is ours to choose',
  },
  {
    owner: 'connection',
    member: 'upgrade',
    kind: 'method',
    why: "overridden: the runtime's 'close' listeners go back on the TCP socket after STARTTLS",
  },
  // SMTPStream (the parser)
  {
    owner: 'parser',
    member: '_write',
    kind: 'method',
    why: 'overridden by HandTypedInput: bare LF to CRLF, over-long lines dropped',
  },
  {
    owner: 'parser',
    member: '_dataMode',
    kind: 'field',
    why: 'true in DATA: only command lines are cut to MAX_COMMAND_LINE',
  },
  {
    owner: 'parser',
    member: '_remainder',
    kind: 'field',
    why: 'the start of a line held from an earlier chunk: it counts towards the line length',
  },
  // SMTPServer
  {
    owner: 'server',
    member: 'connect',
    kind: 'method',
    why: 'overridden (mirrored): our connection class, tied to its transcript session',
  },
  {
    owner: 'server',
    member: 'connections',
    kind: 'field',
    why: 'the set connect() adds each connection to (maxClients, close())',
  },
  {
    owner: 'server',
    member: '_onError',
    kind: 'method',
    why: "a connection's errors go to the server's 'error' event, as in connect()",
  },
  {
    owner: 'server',
    member: '_onClientConnect',
    kind: 'method',
    why: "a connection's 'connect' event, as in connect()",
  },
  {
    owner: 'server',
    member: '_upgrade',
    kind: 'method',
    why: 'overridden: maps the TLS socket of implicit TLS (465) back to its TCP socket',
  },
];

/**
 * smtp-server's logger gets each reply as a debug entry `{ tnx: 'send', cid }` with the payload as
 * third argument: the one place that sees a reply exactly as written (see protocol-log.ts).
 */
export const REPLY_LOG_TNX = 'send';

// --- SMTPConnection -------------------------------------------------------------------------

/** The socket the connection reads and writes (TCP, or TLS after STARTTLS / on 465). */
export function socketOf(connection: SMTPConnection): Socket {
  return connection._socket as Socket;
}

/** True while an AUTH exchange waits for the client's next line (RFC 4954 §4: a continuation). */
export function inAuthExchange(connection: SMTPConnection): boolean {
  return connection._nextHandler !== false;
}

/** Hands one command line to smtp-server's dispatcher, as its own parser does. */
export function dispatchCommand(connection: SMTPConnection, line: Buffer, next?: () => void): void {
  connection._onCommand(line, next);
}

/**
 * What SMTPConnection.init() does, with our pause before the greeting in place of its fixed 100 ms.
 * The pause is how a client that talks before the 220 is caught (`421 You talk too soon`, which
 * smtp-server answers to any command read before the greeting: RFC 5321 §3.1, the server speaks
 * first). After the timer, one more turn of the event loop (setImmediate runs after its I/O
 * phase): bytes that arrived before the greeting are read first, even when the loop was busy.
 */
export function startSession(connection: SMTPConnection, pauseMs: number): void {
  connection._setListeners(() => {
    const { maxClients } = connection._server.options;
    if (maxClients && connection._server.connections.size > maxClients) {
      return connection.send(
        421,
        `${connection.name} Too many connected clients, try again in a moment`,
        false,
      );
    }
    setTimeout(() => setImmediate(() => connection.connectionReady()), pauseMs).unref();
  });
}

// --- SMTPStream ------------------------------------------------------------------------------

/** True while the parser passes a message body (after DATA's 354, up to the final "."). */
export function inDataMode(parser: SMTPStream): boolean {
  return parser._dataMode;
}

/** Octets of the current command line the parser already holds from earlier chunks. */
export function heldLineLength(parser: SMTPStream): number {
  return parser._remainder.length;
}

/** Forgets the partial command line the parser holds (it is being dropped as too long). */
export function dropHeldLine(parser: SMTPStream): void {
  parser._remainder = '';
}

// --- SMTPServer ------------------------------------------------------------------------------

/** What SMTPServer.connect() does once it made the connection: we make our own class. */
export function addConnection(server: SMTPServer, connection: SMTPConnection): void {
  server.connections.add(connection);
  connection.on('error', (err) => server._onError(err));
  connection.on('connect', (data) => server._onClientConnect(data));
  connection.init();
}
