import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { MAX_CLIENTS, type MailDeps } from '../deps.js';
import { Pop3Session } from './session.js';

/**
 * POP3 (110 -> 8110, STLS offered) or POP3S (995 -> 8995, implicit TLS, RFC 8314 §3.3). Give the
 * server to `runtime.serve()`; each connection (after the handshake, for POP3S) becomes a session.
 */
export function createPop3Server(service: 'pop3' | 'pop3s', deps: MailDeps): Server {
  const secureContext = createSecureContext(deps.tls);
  const start = (socket: Socket, secure: boolean) => {
    // A reply goes out as soon as it is written: Nagle's algorithm would hold a multi-line reply's
    // last write until the client's delayed ACK, 40 ms on every LIST, UIDL and RETR.
    socket.setNoDelay(true);
    new Pop3Session(socket, deps, secureContext, deps.runtime.sessionOf(socket), secure).start();
  };
  const server =
    service === 'pop3s'
      ? createTlsServer({ key: deps.tls.key, cert: deps.tls.cert, allowHalfOpen: true }, (socket) =>
          start(socket, true),
        )
      : createTcpServer({ allowHalfOpen: true }, (socket) => start(socket, false));
  // Past this, Node closes new connections at once: a limit on file descriptors and memory.
  server.maxConnections = MAX_CLIENTS;
  return server;
}
