import type { LabConfig } from '@portlab/config';
import { type ServiceStatus, serviceStatuses } from '@portlab/service';
import type { FastifyInstance } from 'fastify';
import { escapeMarkup } from '../escape.js';

function row(s: ServiceStatus): string {
  const state = s.listening ? 'listening' : s.error ? 'failed' : 'stopped';
  return `<tr class="${state}"><td>${escapeMarkup(s.protocol)}</td><td>${s.name}</td><td>${s.port}</td><td>${s.standardPort}</td><td>${s.tls === 'none' ? 'no' : s.tls}</td><td>${state}${s.error ? `: ${escapeMarkup(s.error)}` : ''}</td><td>${s.clients}</td></tr>`;
}

/** The home page: one machine, many services, each on its own port — the lesson in one table. */
export function homeRoutes(app: FastifyInstance, config: LabConfig): void {
  app.get('/', async (_request, reply) => {
    const rows = serviceStatuses(config).map(row).join('\n');
    reply.type('text/html; charset=utf-8');
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>portlab — services and ports</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ccc; padding: .4rem .6rem; text-align: left; }
  tr.stopped td, tr.failed td { color: #555; }
  tr.failed td:last-child { color: #a00000; }
  code { background: #f0f0f0; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>portlab</h1>
<p>One machine, <strong>${config.host}</strong>, offers several services. A client says which one it wants by the
<strong>port</strong> number it connects to. Ports below 1024 are the standard ones; the lab adds ${config.portOffset}
so that it runs without root.</p>
<table>
<thead><tr><th>protocol</th><th>service</th><th>lab port</th><th>standard port</th><th>TLS</th><th>state</th><th>clients now</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p><a href="/lab"><strong>Open the lab dashboard</strong></a>: the port map, who is connected to whom, and the live conversation on each port.</p>
<p>Machine-readable: <a href="/api/services">/api/services</a> · live transcripts: <a href="/api/events">/api/events</a>
(or <code>npx portlab watch</code> in a terminal).</p>
</body>
</html>
`;
  });
}
