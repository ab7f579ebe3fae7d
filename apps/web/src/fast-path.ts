import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AppRuntime } from '@portlab/service';

/** RFC 9110 §10.2.4: the Server header names the software; `portlab probe` and curl -I show it. */
export const SERVER_HEADER = 'portlab-web (fastify)';

/** A whole answer made once and kept: its header fields (name, value, name, value…) and its body. */
export interface HeldAnswer {
  headers: string[];
  bytes: Buffer;
}

/**
 * Who answers a request without fastify: given the request's method, path (without the query) and
 * query, a kept answer or null (fastify routes the request then).
 */
export type FastAnswer = (path: string, query: string, request: IncomingMessage) => HeldAnswer | null;

/**
 * The fast path (issue 20): the requests answered most, a GET or HEAD of a page already in memory
 * (a /~user/ file, the home page), are answered before fastify sees them: its routing, its hooks and
 * its reply object cost several times what Node's own HTTP server does for such an answer (wrk: 13
 * µs of CPU per request for a bare `node:http` server, 60 for the same answer through the route).
 *
 * The answer is the route's own, byte for byte: the route made it and kept it, and `answer` proves
 * it still holds (userdir.ts, home.ts). What fastify's hooks do for every request is done here too:
 * the transcript's request line and status line (server.ts), the Server header (in the kept headers).
 * Anything else goes to fastify unchanged: other methods, a request carrying a precondition or a
 * range (RFC 9110 §13.1, §14.2: the route answers those), an HTTP/1.1 request without Host (RFC
 * 9112 §3.2: the route answers 400).
 */
export function installFastPath(server: Server, runtime: AppRuntime | undefined, answer: FastAnswer): void {
  const [route, ...others] = server.listeners('request') as RequestListener[];
  // fastify's handler is the server's only 'request' listener; anything else is left as it is.
  if (!route || others.length > 0) return;
  server.removeListener('request', route);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!answerFast(request, response, runtime, answer)) route(request, response);
  });
}

function answerFast(
  request: IncomingMessage,
  response: ServerResponse,
  runtime: AppRuntime | undefined,
  answer: FastAnswer,
): boolean {
  const { method, headers } = request;
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (
    headers.range !== undefined ||
    headers['if-range'] !== undefined ||
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined ||
    headers['if-match'] !== undefined ||
    headers['if-unmodified-since'] !== undefined ||
    (headers.host === undefined && request.httpVersion === '1.1')
  )
    return false;
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  const held = q < 0 ? answer(url, '', request) : answer(url.slice(0, q), url.slice(q + 1), request);
  if (!held) return false;
  // The lines server.ts's hooks write (RFC 9112 §3 and §4), with the client's User-Agent as data.
  const session = runtime?.sessionOf(request.socket);
  const agent = headers['user-agent'];
  session?.client(
    `${method} ${url} HTTP/${request.httpVersion}`,
    [],
    agent ? { agent: agent.slice(0, 200) } : undefined,
  );
  response.writeHead(200, held.headers);
  // A HEAD is answered with the same fields and no body (RFC 9110 §9.3.2): Node drops the bytes.
  response.end(held.bytes);
  session?.server('HTTP/1.1 200 OK');
  return true;
}
