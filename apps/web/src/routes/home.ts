import { type LabConfig, urlHost } from '@portlab/config';
import { type ServiceStatus, serviceStatuses } from '@portlab/service';
import type { FastifyInstance } from 'fastify';
import { escapeMarkup } from '../escape.js';

function row(s: ServiceStatus): string {
  const state = s.listening ? 'listening' : s.error ? 'failed' : 'stopped';
  return `<tr class="${state}"><td>${escapeMarkup(s.protocol)}</td><td>${s.name}</td><td>${s.port}</td><td>${s.standardPort}</td><td>${s.tls === 'none' ? 'no' : s.tls}</td><td>${state}${s.error ? `: ${escapeMarkup(s.error)}` : ''}</td><td>${s.clients}</td></tr>`;
}

/**
 * The address students must type, with the ports of the services they use most: the lab's public
 * address (config.publicAddress), which with host 0.0.0.0 is not the bound one. In both languages of
 * the lab sheets.
 */
function studentsBox(config: LabConfig): string {
  const a = escapeMarkup(config.publicAddress);
  const port = (s: Parameters<LabConfig['portOf']>[0]) => config.portOf(s);
  const examples = [
    `http://${escapeMarkup(urlHost(config.publicAddress))}:${port('http')}/`,
    `nc ${a} ${port('smtp')}`,
    `FTP ${a} port ${port('ftp')}`,
    `IMAP ${a} port ${port('imap')}`,
  ]
    .map((e) => `<code>${e}</code>`)
    .join(' · ');
  return `<div class="students" id="students">
<p lang="en"><strong>Students: type ${a}</strong> as the server's address, with the port of the service you want (table below).</p>
<p lang="fr"><strong>Étudiants : tapez ${a}</strong> comme adresse du serveur, avec le port du service voulu (tableau ci-dessous).</p>
<p>${examples}</p>
</div>`;
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
  .students { border: 2px solid #1a5fb4; border-radius: .4rem; padding: 0 1rem; margin: 1rem 0; font-size: 1.15rem; }
</style>
</head>
<body>
<h1>portlab</h1>
${studentsBox(config)}
<p>One machine, <strong>${escapeMarkup(config.publicAddress)}</strong>, offers several services. A client says which one it wants by the
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
