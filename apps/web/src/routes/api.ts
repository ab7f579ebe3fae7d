import type { LabConfig } from '@portlab/config';
import { serviceStatuses } from '@portlab/service';
import type { FastifyInstance } from 'fastify';
import type { EventHub, StartAt } from '../event-hub.js';
import { timeOfId } from '../event-id.js';
import { visibleTo } from '../mask.js';
import type { SignIns } from '../sign-ins.js';
import { openEventStream } from '../sse.js';
import type { StatusWatch } from '../status-watch.js';
import { viewerOf } from '../viewer.js';

/** How often an idle SSE stream sends a comment line, so proxies and browsers keep it open. */
const HEARTBEAT_MS = 15_000;
/** How long a browser waits before it reconnects (the SSE `retry:` field): quick, for a restart. */
const RETRY_MS = 1_000;
/**
 * A browser that reads slower than the lab talks must not make the server buffer without end: past
 * this, the stream is cut, and the browser comes back with Last-Event-ID for what it had not read.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** The most events a new page can ask for with ?tail= (the hub keeps more, for resumes). */
const MAX_TAIL = 5_000;

interface EventsQuery {
  service?: string;
  since?: string;
  tail?: string;
  status?: string;
}

export function apiRoutes(
  app: FastifyInstance,
  config: LabConfig,
  hub: EventHub,
  statusWatch: StatusWatch,
  signIns: SignIns,
): void {
  app.get('/healthz', async () => ({ ok: true }));

  /** Every service of the lab: its ports, whether it listens, how many clients it has now. */
  app.get('/api/services', async () => serviceStatuses(config));

  /**
   * The transcripts, live, as Server-Sent Events (HTML Living Standard, "Server-sent events"):
   * one `transcript` event per protocol event, with an `id:` that stays valid across restarts.
   * A password in a credentials line is sent only to a viewer entitled to it (the teacher, or the
   * student it belongs to: see viewer.ts); everyone else gets it masked (mask.ts). So is what a
   * session says once logged in (a mailbox read, a file listed, a subject sent): to another student,
   * only its command words and reply codes.
   *  - `?service=smtp,imap` keeps only those services;
   *  - `Last-Event-ID: <id>` (sent by the browser when it reconnects) or `?since=<id>` first sends
   *    what came after that event; a `gap` event says if some of it is no longer kept;
   *  - `?tail=N` first sends the last N events (a page opened in the middle of a lab);
   *  - `?status=1` also sends a `services` event (the /api/services list) now and on each change.
   */
  app.get<{ Querystring: EventsQuery }>('/api/events', (request, reply) => {
    const { query } = request;
    const only = query.service
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const lastId = request.headers['last-event-id'] ?? query.since;
    let start: StartAt = 'now';
    if (typeof lastId === 'string' && lastId !== '') {
      if (timeOfId(lastId) === null) {
        return reply.code(400).send({
          error: `'${lastId}' is not an event id: give the id: field of an event this stream sent, e.g. 2025-01-31T10:00:00.000Z~3fa2c1.1~0`,
        });
      }
      start = { after: lastId };
    } else if (query.tail !== undefined) {
      const tail = Number(query.tail);
      if (!Number.isInteger(tail) || tail < 0 || tail > MAX_TAIL) {
        return reply.code(400).send({ error: `tail must be a whole number from 0 to ${MAX_TAIL}` });
      }
      start = { tail };
    }

    const res = openEventStream(reply, {
      name: 'portlab transcript stream',
      retryMs: RETRY_MS,
      cacheControl: 'no-cache',
    });
    const send = (text: string) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else res.write(text);
    };
    const { unsubscribe, missed } = hub.subscribe(({ id, event, owner, account }) => {
      if (only && !only.includes(event.service)) return;
      // Asked again for each event, replayed ones too: signing out masks at once on an open stream.
      const visible = visibleTo(viewerOf(request, config, signIns), event, owner, account);
      send(`id: ${id}\nevent: transcript\ndata: ${JSON.stringify(visible)}\n\n`);
    }, start);
    if (missed) send(`event: gap\ndata: ${JSON.stringify({ after: lastId })}\n\n`);
    const unwatch =
      query.status === '1'
        ? statusWatch.subscribe((list) => send(`event: services\ndata: ${JSON.stringify(list)}\n\n`))
        : () => {};
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
    request.raw.socket.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      unwatch();
    });
  });
}
