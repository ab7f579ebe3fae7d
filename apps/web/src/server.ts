import { type LabConfig, UserStore } from '@portlab/config';
import { type AppRuntime, LoginThrottle } from '@portlab/service';
import Fastify, { type FastifyInstance } from 'fastify';
import { ClassBoard } from './class/board.js';
import type { EventHub } from './event-hub.js';
import { installFastPath, SERVER_HEADER } from './fast-path.js';
import { apiRoutes } from './routes/api.js';
import { autoconfigRoutes } from './routes/autoconfig.js';
import { browseRoutes } from './routes/browse.js';
import { chainRoutes } from './routes/chain.js';
import { chatRoutes } from './routes/chat.js';
import { checkRoutes } from './routes/check.js';
import { classRoutes } from './routes/class.js';
import { classCardsRoutes } from './routes/class-cards.js';
import { dnsRoutes } from './routes/dns.js';
import { HomePages, homeRoutes } from './routes/home.js';
import { labRoutes } from './routes/lab.js';
import { matrixWellKnownRoutes } from './routes/matrix-well-known.js';
import { sessionRoutes } from './routes/session.js';
import { updatesRoutes } from './routes/updates.js';
import { UserdirCache, userdirRoutes } from './routes/userdir.js';
import { SignIns } from './sign-ins.js';
import { StatusWatch } from './status-watch.js';

// Not `import … from 'node:http'`: on Node 22+ an ES import of node:http loads undici, about 3 MB of
// heap in every process that does it (issue #20, idle memory; nodejs/node#59686).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export interface WebServerOptions {
  config: LabConfig;
  /** Set for the HTTPS service (the lab certificate). */
  tls?: { key: string; cert: string };
  /** Writes each request line and status line to the transcript when given. */
  runtime?: AppRuntime;
  hub: EventHub;
  /** The service list pushed to dashboards; one for HTTP and HTTPS alike (made here when not given). */
  statusWatch?: StatusWatch;
  /** The signed-in browsers; one for HTTP and HTTPS alike (made here when not given). */
  signIns?: SignIns;
  /** Slows password guessing on the sign-in; one for HTTP and HTTPS alike (made here when not given). */
  throttle?: LoginThrottle;
  /** The teacher's board (/lab/class); one for HTTP and HTTPS alike (made here when not given). */
  classBoard?: ClassBoard;
  /** What /~user/ keeps of the disk; one for HTTP and HTTPS alike (made here when not given). */
  userdir?: UserdirCache;
}

/** The web app's routes on one fastify instance; main.ts makes one for HTTP and one for HTTPS. */
export async function buildWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  // Node answers a request without Host by itself, before any hook: the transcript (and lab 4's check)
  // would never see that 400. requireHostHeader: false hands such requests to the hook below.
  const app = Fastify({
    logger: false, // The transcript is this server's log.
    ...(options.tls
      ? { https: { ...options.tls, requireHostHeader: false } }
      : { http: { requireHostHeader: false } }),
  }) as unknown as FastifyInstance;
  // RFC 9110 §10.2.4: the Server header names the software (fast-path.ts). The hooks below run on
  // every request: they take fastify's callback form, not `async`, which costs a promise and a
  // microtask turn per hook and per request (issue 20's profile).
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('server', SERVER_HEADER);
    done(null, payload);
  });
  const runtime = options.runtime;
  if (runtime) {
    // RFC 9112 §3: a request starts with its request line; §4: a response with its status line.
    app.addHook('onRequest', (request, _reply, done) => {
      const session = runtime.sessionOf(request.raw.socket);
      // The User-Agent header (RFC 9110 §10.1.5) goes with it as data, not text: the dashboard
      // names the connection by its client ("Firefox 128", "curl 8.5.0"), connection-names.js.
      session?.client(
        `${request.method} ${request.url} HTTP/${request.raw.httpVersion}`,
        [],
        agentData(request.headers['user-agent']),
      );
      // A partial request's headers (RFC 9110 §14.2, §13.1.5) on lines of their own, as on the wire:
      // a web seed's piece requests (BEP 19) show which bytes each one asked for.
      for (const name of ['range', 'if-range'] as const) {
        const value = request.headers[name];
        if (value) session?.client(`${HEADER_NAMES[name]}: ${String(value).slice(0, 200)}`);
      }
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const code = reply.statusCode;
      const session = runtime.sessionOf(request.raw.socket);
      // Node answers every HTTP/1.x request with an HTTP/1.1 status line: log what went on the wire.
      session?.server(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`.trimEnd());
      const range = reply.getHeader('content-range');
      if (range) session?.server(`Content-Range: ${range}`);
      done();
    });
  }
  // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without exactly one Host header.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.httpVersion === '1.1' && request.raw.headers.host === undefined) {
      reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send('400 Bad Request: HTTP/1.1 needs a Host header (RFC 9112, section 3.2)\n');
      return;
    }
    done();
  });
  const { config } = options;
  const users = runtime?.users ?? new UserStore(config.paths.users);
  const signIns = options.signIns ?? new SignIns();
  const home = new HomePages(config);
  homeRoutes(app, config, home);
  apiRoutes(app, config, options.hub, options.statusWatch ?? new StatusWatch(config), signIns);
  const throttle = options.throttle ?? new LoginThrottle();
  sessionRoutes(app, config, users, signIns, throttle);
  browseRoutes(app, config, users, signIns);
  classCardsRoutes(app, config, signIns);
  checkRoutes(app, config, users, signIns);
  chainRoutes(app, config);
  chatRoutes(app, config, signIns);
  const userdir = options.userdir ?? new UserdirCache(config);
  userdirRoutes(app, options.config, userdir);
  updatesRoutes(app, options.config);
  autoconfigRoutes(app, options.config);
  dnsRoutes(app, config, users, throttle);
  matrixWellKnownRoutes(app, options.config);
  const board = options.classBoard ?? new ClassBoard(config, options.hub, users);
  if (!options.classBoard) app.addHook('onClose', async () => board.close());
  classRoutes(app, config, board, signIns);
  await labRoutes(app);
  await app.ready();
  // The pages asked most, once in memory, are answered before fastify routes the request: the same
  // answers, the same transcript lines (fast-path.ts).
  installFastPath(app.server, runtime, (urlPath, query, request) =>
    urlPath === '/' ? home.answer(query, request.headers['accept-language']) : userdir.answer(urlPath),
  );
  return app;
}

export { type BoardOptions, ClassBoard, type ClassSnapshot, type StudentEntry } from './class/board.js';
export { EventHub } from './event-hub.js';
export { UserdirCache } from './routes/userdir.js';
export { SignIns } from './sign-ins.js';
export { StatusWatch } from './status-watch.js';

const HEADER_NAMES = { range: 'Range', 'if-range': 'If-Range' };

/** The User-Agent as a line's data, cut short: a header is the client's to fill, with anything. */
function agentData(agent: string | undefined): { agent: string } | undefined {
  return agent ? { agent: agent.slice(0, 200) } : undefined;
}
