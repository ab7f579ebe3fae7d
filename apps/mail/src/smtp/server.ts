import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServiceName } from '@portlab/config';
import { MailStoreError } from '@portlab/mailstore';
import type { Session } from '@portlab/transcript';
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import { MAX_CLIENTS, type MailDeps } from '../deps.js';
import { debugOnlyLogger } from '../protocol-log.js';
import { summarizeMessage } from '../summary.js';
import { LabSmtpConnection } from './connection.js';
import { MailPolicy, type Route, SmtpError } from './policy.js';
import {
  addConnection,
  REPLY_LOG_TNX,
  type SMTPConnectionOptions,
  SMTPServer,
  type TLSError,
} from './smtp-server-internals.js';
import { receivedHeader, traceHeaders } from './trace.js';

export type SmtpService = Extract<ServiceName, 'smtp' | 'submission' | 'smtps'>;

/** RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command (a student typing). */
const IDLE_TIMEOUT_MS = 5 * 60_000;

/**
 * smtp-server, wired to the lab: each connection is a LabSmtpConnection tied to the transcript
 * session the runtime opened for its socket. Pass `server.server` (the net.Server smtp-server made)
 * to `runtime.serve()`: the runtime binds it, and opens a session on each accepted TCP socket
 * before smtp-server sees it. For implicit TLS, smtp-server wraps that socket itself; the wrapper
 * is mapped back to it so the session is found.
 */
export class LabSmtpServer extends SMTPServer {
  private readonly byId: Map<string, LabSmtpConnection>;
  private readonly tcpSocketOf = new WeakMap<TLSSocket, Socket>();

  constructor(
    options: SMTPServerOptions,
    private readonly sessionOf: (socket: Socket) => Session | undefined,
  ) {
    const byId = new Map<string, LabSmtpConnection>();
    super({ ...options, logger: replyLogger(byId) });
    this.byId = byId;
  }

  /** The connection a smtp-server session belongs to. */
  connectionOf(session: SMTPServerSession): LabSmtpConnection | undefined {
    return this.byId.get(session.id);
  }

  // Mirrors SMTPServer.connect, with our connection class in place of SMTPConnection.
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new LabSmtpConnection(this, socket, socketOptions);
    const tcp = this.tcpSocketOf.get(socket as TLSSocket) ?? socket;
    connection.transcript = this.sessionOf(tcp);
    this.byId.set(connection.id, connection);
    addConnection(this, connection);
  }

  override _upgrade(socket: Socket, callback: (err: TLSError | null, tlsSocket?: TLSSocket) => void): void {
    super._upgrade(socket, (err, tlsSocket) => {
      if (tlsSocket) this.tcpSocketOf.set(tlsSocket, socket);
      callback(err, tlsSocket);
    });
  }

  override onClose(session: SMTPServerSession): void {
    this.byId.delete(session.id);
  }
}

/**
 * smtp-server reports every reply it writes to its logger as ('S:', payload), with the
 * connection id: the one place that sees each reply exactly as sent. We pass them to the
 * transcript and drop the rest of its log (the transcript is this server's log).
 */
function replyLogger(byId: Map<string, LabSmtpConnection>) {
  return debugOnlyLogger((entry, _format, payload) => {
    if (entry.tnx === REPLY_LOG_TNX && entry.cid) byId.get(entry.cid)?.transcribeReply(String(payload));
  });
}

/** smtp-server's MAIL/RCPT handler for a rule that throws an SmtpError to refuse the address. */
function envelopeRule(check: (address: string, session: SMTPServerSession) => void) {
  return (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error) => void) => {
    try {
      check(address.address, session);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  };
}

/**
 * One SMTP service (docs/architecture.md, "Ports"):
 * - smtp (25 -> 8025): MX. No AUTH; mail for the local domains only; STARTTLS offered.
 * - submission (587 -> 8587): RFC 6409. AUTH PLAIN/LOGIN required, STARTTLS offered; AUTH before
 *   STARTTLS allowed unless config.mail.requireTlsForAuth (lab 2 shows the password on the wire).
 * - smtps (465 -> 8465): submission over implicit TLS (RFC 8314 §3.3).
 */
export function createSmtpServer(service: SmtpService, deps: MailDeps): LabSmtpServer {
  const { config, runtime, store, throttle } = deps;
  const policy = new MailPolicy(config, runtime.users);
  const isMx = service === 'smtp';

  const onAuth = (
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void => {
    void (async () => {
      // A wrong password is answered after a delay that grows with each failure (LoginThrottle).
      const { user } = await throttle.authenticate(runtime.users, {
        name: auth.username ?? '',
        password: auth.password ?? '',
        domain: config.domain,
        address: session.remoteAddress,
        // Whose password the AUTH lines were (see Session.login).
        transcript: server.connectionOf(session)?.transcript,
      });
      if (!user)
        return callback(new SmtpError(535, '5.7.8 Authentication failed: wrong user name or password'));
      callback(null, { user });
    })().catch(callback);
  };

  // MAIL FROM on submission: only as yourself. RCPT TO: local users only (never relay).
  const onMailFrom = envelopeRule((address, session) => {
    if (!isMx) policy.checkSender(address, session.user as string);
  });
  // On submission, another lab of the class is allowed too (queued, see ../relay/relay.ts). A local
  // mailbox at or over its quota (config mail.quotaBytes) is refused now with 452 4.2.2, "mailbox
  // full" (RFC 5321 §4.5.3.1.10, RFC 3463 X.2.2): a temporary failure, the sending MTA tries again
  // later, when the user may have made room.
  const onRcptTo = (
    address: SMTPServerAddress,
    session: SMTPServerSession,
    callback: (err?: Error) => void,
  ): void => {
    const full = () =>
      new SmtpError(452, `4.2.2 Mailbox full: ${address.address} is over its quota, try again later`);
    let route: Route;
    try {
      route = policy.route(address.address, !isMx && Boolean(session.user));
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (route.kind !== 'local') {
      callback();
      return;
    }
    const { user } = route;
    // Known now (the usual case: the total is in memory), answered in this turn, as before the
    // quota, so a pipelining client's replies still go out together; else after counting the mailbox.
    const known = store.fullNow(user);
    if (known !== undefined) {
      callback(known ? full() : undefined);
      return;
    }
    store.full(user).then(
      (isFull) => callback(isFull ? full() : undefined),
      (err: Error) => callback(err),
    );
  };

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ) => {
    const chunks: Buffer[] = [];
    // Past the SIZE limit, stop keeping the bytes: smtp-server answers 552 at the end (rejectOversized).
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    // A client that goes away in the middle of DATA: smtp-server destroys the stream, 'end' never
    // comes, and nothing is stored.
    stream.on('end', () => {
      if (stream.sizeExceeded) return callback(new SmtpError(552, 'message too big'));
      const body = Buffer.concat(chunks);
      let routes: Route[];
      try {
        // Checked again: an account may have been removed since RCPT.
        routes = session.envelope.rcptTo.map((r) => policy.route(r.address, !isMx && Boolean(session.user)));
      } catch (err) {
        return callback(err as Error);
      }
      const users = [...new Set(routes.flatMap((r) => (r.kind === 'local' ? [r.user] : [])))];
      const remote = routes.flatMap((r) => (r.kind === 'relay' ? [r.address] : []));
      const local = Buffer.concat([traceHeaders(session, config.domain), body]);
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const failed = (err: Error) => {
        console.error(`[mail] ${service}: delivery failed: ${err.message}`);
        callback(new SmtpError(451, '4.3.0 Could not store the message, try again later'));
      };
      // Every recipient's copy is on disk (fsync'ed file and directory) before the 250: in its
      // INBOX, or in the outbound queue for another lab.
      const deliver = () =>
        Promise.all([
          Promise.all(users.map((user) => store.deliver(user, local))),
          remote.length
            ? deps.relay.submit(from, remote, body, (id, to) =>
                receivedHeader(session, config.domain, { id, to }),
              )
            : [],
        ]).then(([delivered, queued]) => {
          server.connectionOf(session)?.transcribeMessage(summarizeMessage(body));
          const done = [
            users.length ? `delivered to ${users.join(', ')} as ${delivered[0]!.id}` : '',
            queued.length ? `queued as ${queued.join(', ')} for ${remote.join(', ')}` : '',
          ];
          callback(null, `2.0.0 Ok: ${done.filter(Boolean).join('; ')}`);
        }, failed);
      // The quota (config mail.quotaBytes): one DATA reply covers every recipient (LMTP would give
      // one each, SMTP cannot), so if the message would pass the quota of any local recipient, it is
      // refused whole with 552 5.2.2 (RFC 5321 §4.5.3.1.10, RFC 3463 X.2.2) and stored for none,
      // not even for the recipients with room: the sender is told at once, and nobody gets it twice
      // when it is sent again. Room is held in every mailbox before the first delivery, so
      // deliveries running at once cannot pass a quota together.
      store.hold(users, local.length).then(
        (release) => deliver().finally(release),
        (err: Error) => {
          if (!(err instanceof MailStoreError && err.code === 'OVER_QUOTA')) return failed(err);
          // The sender learns which address is full, not how much that account holds.
          const who = routes.find((r) => r.kind === 'local' && r.user === err.user)?.address ?? err.user;
          callback(
            new SmtpError(
              552,
              `5.2.2 Mailbox full: the message would pass the quota of ${who}; not delivered`,
            ),
          );
        },
      );
    });
  };

  const server = new LabSmtpServer(
    {
      name: config.domain,
      banner: 'portlab lab mail server',
      key: deps.tls.key,
      cert: deps.tls.cert,
      secure: service === 'smtps',
      size: config.mail.maxMessageBytes,
      rejectOversized: true,
      // A lab has no DNS for its clients' addresses: a reverse lookup would only add a delay.
      disableReverseLookup: true,
      maxClients: MAX_CLIENTS,
      socketTimeout: IDLE_TIMEOUT_MS,
      authMethods: ['PLAIN', 'LOGIN'],
      disabledCommands: isMx ? ['AUTH'] : [],
      authOptional: isMx,
      allowInsecureAuth: !config.mail.requireTlsForAuth,
      // A student tries EHLO, HELP, NOOP... before AUTH: leave room for that.
      maxAllowedUnauthenticatedCommands: 30,
      onAuth,
      onMailFrom,
      onRcptTo,
      onData,
    },
    (socket) => runtime.sessionOf(socket),
  );
  // Errors of one connection (a reset, a failed TLS handshake) end that connection only; the
  // transcript shows it closing. Anything else is worth a line on the console. smtp-server names the
  // client of a failed or never-begun handshake (`portlab probe` connecting and closing, a port scan)
  // in err.meta.remoteAddress (normalizeTLSError), of other connection errors in err.remoteAddress.
  server.on('error', (err: Error & { remoteAddress?: string; meta?: { remoteAddress?: string } }) => {
    if (!err.remoteAddress && !err.meta?.remoteAddress) console.error(`[mail] ${service}: ${err.message}`);
  });
  return server;
}
