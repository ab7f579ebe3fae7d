import type { LabConfig } from '@portlab/config';
import { serviceStatuses } from '@portlab/service';
import type { FastifyInstance } from 'fastify';
import type { EventHub } from '../event-hub.js';

/** How often an idle SSE stream sends a comment line, so proxies and browsers keep it open. */
const HEARTBEAT_MS = 15_000;

export function apiRoutes(app: FastifyInstance, config: LabConfig, hub: EventHub): void {
  app.get('/healthz', async () => ({ ok: true }));

  /** Every service of the lab: its ports, whether it listens, how many clients it has now. */
  app.get('/api/services', async () => serviceStatuses(config));

  /**
   * The transcripts, live, as Server-Sent Events (HTML Living Standard, "Server-sent events"):
   * one `transcript` event per protocol event. `?service=smtp,imap` keeps only those services.
   */
  app.get<{ Querystring: { service?: string } }>('/api/events', (request, reply) => {
    const only = request.query.service
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': portlab transcript stream\n\n');
    let id = 0;
    const unsubscribe = hub.subscribe((event) => {
      if (only && !only.includes(event.service)) return;
      res.write(`id: ${++id}\nevent: transcript\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    request.raw.socket.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
}
