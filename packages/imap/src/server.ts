import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext } from 'node:tls';
import type { LabConfig, UserStore } from '@portlab/config';
import type { MailStore } from '@portlab/mailstore';
import type { LoginThrottle } from '@portlab/service';
import type { Session as TranscriptSession } from '@portlab/transcript';
import { HeaderCache } from './header-cache.js';
import { mailStorage } from './mailstore-adapter.js';
import type { ReaderLimits } from './parser/command-reader.js';
import { Session } from './session.js';
import type { MailStorage } from './storage.js';

export interface ImapServerOptions {
  store: MailStore;
  users: Pick<UserStore, 'authenticate'>;
  /** The app's one throttle for every protocol that takes a password. */
  throttle: LoginThrottle;
  certificate: { key: string; cert: string };
  /** IMAPS (993 -> 8993, RFC 8314 §3.3) if true; else IMAP with STARTTLS (143 -> 8143). */
  implicitTls: boolean;
  /** The transcript session of an accepted connection (AppRuntime.sessionOf). */
  sessionOf(socket: Socket): TranscriptSession | undefined;
  config: LabConfig;
}

/** What every session of a server shares. */
export interface ServerContext {
  storage: MailStorage;
  users: Pick<UserStore, 'authenticate'>;
  throttle: LoginThrottle;
  config: LabConfig;
  secureContext: SecureContext;
  headerCache: HeaderCache;
  limits: ReaderLimits;
}

/**
 * Command lines (outside literals) up to 64 KiB: RFC 7162 §4 asks clients to keep lines under
 * 8192 octets; a UID set of a large mailbox can come near. Past this a line is refused.
 */
const MAX_LINE_BYTES = 64 * 1024;
/** Connections one server accepts at once: a bound on file descriptors and memory. */
const MAX_CLIENTS = 2000;

/**
 * An IMAP server over the lab's mail store. Give it to `runtime.serve('imap' | 'imaps', ...)`;
 * each connection (after the TLS handshake, for IMAPS) becomes a Session.
 */
export function createImapServer(options: ImapServerOptions): Server {
  const context: ServerContext = {
    storage: mailStorage(options.store),
    users: options.users,
    throttle: options.throttle,
    config: options.config,
    secureContext: createSecureContext(options.certificate),
    headerCache: new HeaderCache(),
    limits: { maxLineBytes: MAX_LINE_BYTES, maxLiteralBytes: options.config.mail.maxMessageBytes },
  };
  const start = (socket: Socket, secure: boolean) => {
    // A command's answer goes out as soon as it is written: Nagle's algorithm would hold the
    // tagged line back until the client's delayed ACK, 40 ms on every command.
    socket.setNoDelay(true);
    void new Session(socket, context, options.sessionOf(socket), secure).run();
  };
  // Half-open sockets: a client that sends its commands and closes its side (`printf … | nc -N`)
  // still gets every reply; the session ends the connection once it has read everything.
  const server = options.implicitTls
    ? createTlsServer({ ...options.certificate, allowHalfOpen: true }, (socket) => start(socket, true))
    : createTcpServer({ allowHalfOpen: true }, (socket) => start(socket, false));
  server.maxConnections = MAX_CLIENTS;
  return server;
}
