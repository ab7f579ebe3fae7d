import type { LabConfig, UserStore } from '@portlab/config';
import type { AppRuntime, LoginThrottle } from '@portlab/service';
import type { Session } from '@portlab/transcript';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { MatrixError, unrecognized } from './errors.js';
import { maskUrl, summarizeBody } from './exchange-log.js';
import { federationRoutes } from './federation/routes.js';
import { accessToken, Home } from './home.js';
import { accountRoutes } from './routes/account.js';
import { roomRoutes } from './routes/rooms.js';
import { syncRoutes } from './routes/sync.js';

// Not `import … from 'node:http'`: on Node 22+ an ES import of node:http loads undici, about 3 MB of
// heap in every process that does it (issue #20, idle memory; nodejs/node#59686).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

declare module 'fastify' {
  interface FastifyRequest {
    /** The connection's transcript session (undefined outside the lab runtime, e.g. in unit tests). */
    transcriptSession: Session | undefined;
    /** The body as received, kept for the transcript when it is not JSON. */
    rawBody: string | undefined;
    /** The C: line is written once, before the S: line. */
    logged: boolean;
    /** The answer's body, for the S: line. */
    answer: unknown;
  }
}

/**
 * The largest request body, refused before it is read whole (413 M_TOO_LARGE). An event is held to
 * the spec's 65,536 bytes once built, signed and all (client-server API §"Size limits"): makeEvent
 * checks that, so a body between the two limits is read and then refused the same way.
 */
export const MAX_BODY_BYTES = 128 * 1024;

export interface ChatServerOptions {
  home: Home;
  /** Set for 8448 (the lab certificate). */
  tls?: { key: string; cert: string };
  /** Writes each exchange to the transcript when given. */
  runtime?: AppRuntime;
}

export { Home };

export function openHome(
  config: LabConfig,
  users: UserStore,
  throttle: LoginThrottle,
  serverName: string,
): Promise<Home> {
  return Home.open(config, users, throttle, serverName);
}

/** The Matrix client-server API on one fastify instance; main.ts makes one for 8008 and one for 8448. */
export async function buildChatServer(options: ChatServerOptions): Promise<FastifyInstance> {
  const { home, runtime } = options;
  const app = Fastify({
    logger: false, // The transcript is this server's log.
    bodyLimit: MAX_BODY_BYTES,
    // r0 is the API's name before spec v1.1 (same endpoints as v3): older clients, such as Debian's
    // matrix-nio and weechat-matrix, still call it. The transcript keeps the path the client sent.
    rewriteUrl: (req) => (req.url ?? '/').replace(/^\/_matrix\/client\/r0\//, '/_matrix/client/v3/'),
    ...(options.tls ? { https: options.tls } : {}),
  }) as unknown as FastifyInstance;
  app.decorateRequest('transcriptSession', undefined);
  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('logged', false);
  app.decorateRequest('answer', undefined);

  // Any body is read as JSON, whatever its Content-Type: Synapse does the same, and `curl -d` says
  // application/x-www-form-urlencoded. Malformed JSON is M_NOT_JSON (client-server API §"Common error codes").
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new MatrixError(400, 'M_NOT_JSON', 'The body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    request.transcriptSession = runtime?.sessionOf(request.raw.socket);
    // CORS on every answer (client-server API §"Web browser clients"): Element in a browser calls us.
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS');
    reply.header('access-control-allow-headers', 'X-Requested-With, Content-Type, Authorization');
    reply.header('server', 'portlab-chat (fastify)');
    if (request.method === 'OPTIONS') return reply.code(204).send();
  });
  app.addHook('preHandler', async (request) => {
    actsFor(request, home);
    logRequest(request);
  });
  app.addHook('onSend', async (request, _reply, payload) => {
    request.answer = payload;
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    logRequest(request);
    const code = reply.statusCode;
    const body = summarizeBody(request.answer, { hideMessages: isFederation(request) });
    request.transcriptSession?.server(`${code} ${STATUS_CODES[code] ?? ''}${body ? ` ${body}` : ''}`.trim());
  });

  app.setErrorHandler((error: FastifyError | MatrixError, _request, reply) => {
    const matrix = error instanceof MatrixError ? error : fromFastify(error);
    return reply.code(matrix.status).type('application/json').send(matrix.body());
  });
  // Whatever a client calls that this server does not serve: M_UNRECOGNIZED, 405 when the path is
  // known with another method (client-server API §"Common error codes").
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(
      `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}$`,
    );
    for (const method of methods) routes.push({ method, pattern });
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.originalUrl.split('?')[0]!;
    const known = routes.some((r) => r.pattern.test(request.url.split('?')[0]!));
    const error = known
      ? unrecognized(405, `${request.method} is not allowed on ${path}`)
      : unrecognized(404, `Unrecognized request: ${request.method} ${path}`);
    return reply.code(error.status).send(error.body());
  });

  accountRoutes(app, home);
  roomRoutes(app, home);
  syncRoutes(app, home);
  if (options.tls) federationRoutes(app, home); // server-server API: on 8448 only
  await app.ready();
  return app;
}

/** The user each connection's requests last acted for, by their access token. */
const actingFor = new WeakMap<Session, string>();

/**
 * A request with a valid access token acts for the token's user (client-server API §"Using access
 * tokens"). The first such request on a connection, or the first for another user, writes a `login`
 * event to the connection's transcript before the request's line: the web app then shows what this
 * connection says (messages sent, /sync answers) only to that student and the teacher, as it does
 * for a mail or FTP session after its password (apps/web session-accounts.ts).
 */
function actsFor(request: FastifyRequest, home: Home): void {
  const session = request.transcriptSession;
  const token = session && accessToken(request);
  if (!session || token === undefined) return;
  const user = home.tokens.find(token)?.user;
  if (user === undefined || actingFor.get(session) === user) return;
  const account = home.localAccount(user);
  if (account === undefined) return; // an account removed since: the token acts for nobody here
  actingFor.set(session, user);
  session.login(account, true, 'access-token');
}

/** A server-server request (on 8448): its messages' words are hidden in the transcript (exchange-log.ts). */
const isFederation = (request: FastifyRequest) => request.url.startsWith('/_matrix/federation/');

/** The C: line of an exchange: method, path (token masked) and the body's summary. */
function logRequest(request: FastifyRequest): void {
  if (request.logged) return;
  request.logged = true;
  const body = summarizeBody(request.body ?? request.rawBody, { hideMessages: isFederation(request) });
  request.transcriptSession?.client(
    `${request.method} ${maskUrl(request.originalUrl)}${body ? ` ${body}` : ''}`,
    [],
    agentData(request.headers['user-agent']),
  );
}

/** The User-Agent as data: the dashboard names a connection by its client (connection-names.js). */
function agentData(agent: string | undefined): { agent: string } | undefined {
  return agent ? { agent: agent.slice(0, 200) } : undefined;
}

/** Fastify's own errors (body too large, bad content) in the spec's shape. */
function fromFastify(error: FastifyError): MatrixError {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new MatrixError(413, 'M_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new MatrixError(status, 'M_BAD_JSON', error.message);
  console.error(`[chat] ${error.stack ?? error.message}`);
  return new MatrixError(500, 'M_UNKNOWN', 'Internal server error');
}
