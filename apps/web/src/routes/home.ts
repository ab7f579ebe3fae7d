import { CheckedFile, type LabConfig, urlHost } from '@portlab/config';
import { isAlive, readRunState, type ServiceStatus, serviceStatuses } from '@portlab/service';
import type { FastifyInstance } from 'fastify';
import { escapeMarkup } from '../escape.js';
import { type HeldAnswer, SERVER_HEADER } from '../fast-path.js';

/** The page's two languages, as the lab sheets: French or English. */
type Lang = 'fr' | 'en';

/**
 * The language of the page: `?lang=fr|en` (the switch at the top) wins, else the browser's first
 * preferred language it has (Accept-Language, RFC 9110 §12.5.4), else English.
 */
export function pageLanguage(query: unknown, acceptLanguage: string | undefined): Lang {
  const asked = (query as { lang?: unknown } | undefined)?.lang;
  if (asked === 'fr' || asked === 'en') return asked;
  const ranges = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [range = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { range: range.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.range && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { range } of ranges) {
    if (range === 'fr' || range.startsWith('fr-')) return 'fr';
    if (range === 'en' || range.startsWith('en-')) return 'en';
  }
  return 'en';
}

const TEXT = {
  title: { en: 'portlab — services and ports', fr: 'portlab — services et ports' },
  switchTo: { en: 'Français', fr: 'English' },
  students: {
    en: (a: string) =>
      `<strong>Students: type ${a}</strong> as the server's address, with the port of the service you want (table below).`,
    fr: (a: string) =>
      `<strong>Étudiants : tapez ${a}</strong> comme adresse du serveur, avec le port du service voulu (tableau ci-dessous).`,
  },
  intro: {
    en: (a: string, offset: number) =>
      `One machine, <strong>${a}</strong>, offers several services. A client says which one it wants by the <strong>port</strong> number it connects to. Ports below 1024 are the standard ones; the lab adds ${offset} so that it runs without root.`,
    fr: (a: string, offset: number) =>
      `Une seule machine, <strong>${a}</strong>, offre plusieurs services. Un client dit lequel il veut par le numéro de <strong>port</strong> auquel il se connecte. Les ports sous 1024 sont les ports standard ; le lab leur ajoute ${offset} pour tourner sans être root.`,
  },
  headers: {
    en: ['protocol', 'service', 'lab port', 'standard port', 'TLS', 'state', 'clients now'],
    fr: ['protocole', 'service', 'port du lab', 'port standard', 'TLS', 'état', 'clients connectés'],
  },
  states: {
    en: { listening: 'listening', failed: 'failed', stopped: 'stopped', no: 'no' },
    fr: { listening: 'à l’écoute', failed: 'en échec', stopped: 'arrêté', no: 'non' },
  },
  dashboard: {
    en: '<a href="/lab"><strong>Open the lab dashboard</strong></a>: the port map, who is connected to whom, and the live conversation on each port.',
    fr: '<a href="/lab"><strong>Ouvrir le tableau de bord du labo</strong></a> : la carte des ports, qui est connecté à qui, et la conversation en direct sur chaque port.',
  },
  machine: {
    en: 'Machine-readable: <a href="/api/services">/api/services</a> · live transcripts: <a href="/api/events">/api/events</a> (or <code>npx portlab watch</code> in a terminal).',
    fr: 'Pour les programmes : <a href="/api/services">/api/services</a> · transcriptions en direct : <a href="/api/events">/api/events</a> (ou <code>npx portlab watch</code> dans un terminal).',
  },
} as const;

function row(s: ServiceStatus, lang: Lang): string {
  const state = s.listening ? 'listening' : s.error ? 'failed' : 'stopped';
  const said = TEXT.states[lang];
  return `<tr class="${state}"><td>${escapeMarkup(s.protocol)}</td><td>${s.name}</td><td>${s.port}</td><td>${s.standardPort}</td><td>${s.tls === 'none' ? said.no : s.tls}</td><td>${said[state]}${s.error ? `: ${escapeMarkup(s.error)}` : ''}</td><td>${s.clients}</td></tr>`;
}

/**
 * The address students must type, with the ports of the services they use most: the lab's public
 * address (config.publicAddress), which with host 0.0.0.0 is not the bound one.
 */
function studentsBox(config: LabConfig, lang: Lang): string {
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
<p>${TEXT.students[lang](a)}</p>
<p>${examples}</p>
</div>`;
}

/** The home page: one machine, many services, each on its own port — the lesson in one table. */
export function homeRoutes(app: FastifyInstance, config: LabConfig, pages = new HomePages(config)): void {
  app.get('/', async (request, reply) => {
    const lang = pageLanguage(request.query, request.headers['accept-language']);
    reply.type('text/html; charset=utf-8').header('content-language', lang).header('vary', 'Accept-Language');
    return pages.get(lang).html;
  });
}

/**
 * The page in each language, rendered again only when what it shows may have changed (issue 20: it
 * was read and rendered for every request). It shows what each app says of itself in its run file,
 * and whether that app's process is alive: the run folder is checked by a stat (an app replaces its
 * file by a rename, which changes the folder), and each pid named there by kill(pid, 0), as
 * serviceStatuses does; an app killed with SIGKILL changes no file, but its pid dies.
 */
export class HomePages {
  private readonly runFiles: CheckedFile<{ version: number; pids: number[] }>;
  private readonly pages = new Map<Lang, { key: string; html: string; answer: HeldAnswer }>();

  constructor(private readonly config: LabConfig) {
    let version = 0;
    const apps = [...new Set(config.services.map((s) => s.app))];
    // A change of run file is seen at once; a second one within the same clock tick, within 100 ms
    // (see CheckedFile): far below the second each app waits between two writes of its run file.
    this.runFiles = new CheckedFile(
      config.paths.run,
      () => ({
        version: ++version,
        pids: apps.map((app) => readRunState(config.paths.run, app)?.pid ?? 0),
      }),
      undefined,
      100,
    );
  }

  /** The page in `lang`, as HTML, and as the whole answer the route gives (for fast-path.ts). */
  get(lang: Lang): { html: string; answer: HeldAnswer } {
    const { version, pids } = this.runFiles.get();
    const key = `${version}:${pids.map((pid) => (pid > 0 && isAlive(pid) ? 1 : 0)).join('')}`;
    const kept = this.pages.get(lang);
    if (kept?.key === key) return kept;
    const html = render(this.config, lang);
    const bytes = Buffer.from(html);
    // The header fields the route sends (content-type to vary, then the onSend hook's and fastify's).
    const headers = [
      'content-type',
      'text/html; charset=utf-8',
      'content-language',
      lang,
      'vary',
      'Accept-Language',
      'server',
      SERVER_HEADER,
      'content-length',
      String(bytes.length),
    ];
    const page = { key, html, answer: { headers, bytes } };
    this.pages.set(lang, page);
    return page;
  }

  /**
   * The route's answer to a GET of / with `query` (the text after "?"), or null for a query the
   * fast path leaves to the route (anything but nothing, `lang=fr` or `lang=en`).
   */
  answer(query: string, acceptLanguage: string | undefined): HeldAnswer | null {
    const asked = query === '' ? undefined : query === 'lang=fr' ? 'fr' : query === 'lang=en' ? 'en' : null;
    if (asked === null) return null;
    return this.get(asked ?? pageLanguage(undefined, acceptLanguage)).answer;
  }
}

function render(config: LabConfig, lang: Lang): string {
  const other: Lang = lang === 'fr' ? 'en' : 'fr';
  const rows = serviceStatuses(config)
    .map((s) => row(s, lang))
    .join('\n');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TEXT.title[lang]}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ccc; padding: .4rem .6rem; text-align: left; }
  tr.stopped td, tr.failed td { color: #555; }
  tr.failed td:last-child { color: #a00000; }
  code { background: #f0f0f0; padding: 0 .2rem; }
  .students { border: 2px solid #1a5fb4; border-radius: .4rem; padding: 0 1rem; margin: 1rem 0; font-size: 1.15rem; }
  .lang { float: right; }
</style>
</head>
<body>
<a class="lang" href="/?lang=${other}" hreflang="${other}" lang="${other}">${TEXT.switchTo[lang]}</a>
<h1>portlab</h1>
${studentsBox(config, lang)}
<p>${TEXT.intro[lang](escapeMarkup(config.publicAddress), config.portOffset)}</p>
<table>
<thead><tr>${TEXT.headers[lang].map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>${TEXT.dashboard[lang]}</p>
<p>${TEXT.machine[lang]}</p>
</body>
</html>
`;
}
