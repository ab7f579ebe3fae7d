import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Opens a Server-Sent Events stream (HTML Living Standard §9.2 "Server-sent events") on `reply`, for
 * /api/events and /api/class/events alike: fastify lets go of the reply (the stream stays open), the
 * headers go out, then a comment naming the stream and the `retry:` field (how long a browser waits
 * before it reconnects). Returns the raw response to write the events to.
 */
export function openEventStream(
  reply: FastifyReply,
  stream: { name: string; retryMs: number; cacheControl: 'no-cache' | 'no-store' },
): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': stream.cacheControl,
    connection: 'keep-alive',
  });
  res.write(`: ${stream.name}\nretry: ${stream.retryMs}\n\n`);
  return res;
}
