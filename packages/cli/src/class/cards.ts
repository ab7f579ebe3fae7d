import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LabConfig, urlHost } from '@portlab/config';
import type { Lang, Text } from '@portlab/labs/cli';
import type { Student } from './roster.js';

/** A student's card: who, and the password in clear (this page is the only place it is written). */
export interface Card extends Student {
  password: string;
}

/** $DATA/class/cards.html: what `class create` writes and the web app serves at /lab/class/cards. */
export function cardsFile(config: LabConfig): string {
  return path.join(config.paths.class, 'cards.html');
}

/**
 * The address students type to reach the lab: its public address (the address it binds, or, bound
 * to 0.0.0.0, its LAN address: packages/config addresses.ts).
 */
export function serverAddress(config: LabConfig): string {
  return config.publicAddress;
}

/**
 * http://ADDRESS:PORT/path at the address the cards give, without the port when it is 80 (RFC 9110
 * §4.2.1: the default). `class create` prints the cards' own URL this way too.
 */
export function labUrl(config: LabConfig, pathname: string): string {
  const port = config.portOf('http');
  return `http://${urlHost(serverAddress(config))}${port === 80 ? '' : `:${port}`}${pathname}`;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text put into HTML: the five characters with a meaning there become entities. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** What esc() did, undone: the text of a card read back. */
function unesc(html: string): string {
  return html.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (entity) => Object.keys(ENTITIES).find((c) => ENTITIES[c] === entity)!,
  );
}

const T = {
  title: { fr: 'portlab — comptes de la classe', en: 'portlab — class accounts' },
  screen: {
    fr: 'Imprimez cette page (Ctrl-P), découpez les cartes le long des pointillés, donnez-en une à chaque élève. Elle contient les mots de passe en clair : ne la laissez pas traîner, détruisez-la après le TP.',
    en: 'Print this page (Ctrl-P), cut the cards along the dashed lines, hand one to each student. It holds the passwords in clear: do not leave it lying around, shred it after the lab.',
  },
  card: { fr: 'Compte de TP portlab', en: 'portlab lab account' },
  account: { fr: 'Compte', en: 'Account' },
  password: { fr: 'Mot de passe', en: 'Password' },
  mail: { fr: 'Adresse mail', en: 'Mail address' },
  server: { fr: 'Serveur', en: 'Server' },
  home: { fr: 'Accueil', en: 'Home page' },
  page: { fr: 'Ta page', en: 'Your page' },
  service: { fr: 'service', en: 'service' },
  port: { fr: 'port', en: 'port' },
} satisfies Record<string, Text>;

/**
 * The credential cards: one per student, six to an A4 page, cut along the dashed borders. The
 * teacher's password is not on them (it is printed once by `class create`): a page handed out by
 * mistake must not open every account. Plain HTML
 * with its own print stylesheet (@media print, @page): no script, no outside resource, so it prints
 * the same from the file or from the web app.
 */
export function cardsHtml(config: LabConfig, cards: readonly Card[], lang: Lang): string {
  const t = (text: Text) => esc(text[lang]);
  const server = serverAddress(config);
  // The ports table in two halves side by side, to fit on the card.
  const rows = config.services.map(
    (s) => `<tr><td>${esc(s.name)}</td><td>${config.portOf(s.name)}</td></tr>`,
  );
  const half = Math.ceil(rows.length / 2);
  const portTables = [rows.slice(0, half), rows.slice(half)]
    .map(
      (part) =>
        `<table class="ports"><tr><th>${t(T.service)}</th><th>${t(T.port)}</th></tr>${part.join('')}</table>`,
    )
    .join('');
  const card = (c: Card, heading: string) => `<section class="card">
<h2>${heading}</h2>
${c.label !== c.name ? `<p class="who">${esc(c.label)}</p>` : ''}<dl>
<dt>${t(T.account)}</dt><dd><code>${esc(c.name)}</code></dd>
<dt>${t(T.password)}</dt><dd><code class="secret">${esc(c.password)}</code></dd>
<dt>${t(T.mail)}</dt><dd><code>${esc(`${c.name}@${config.domain}`)}</code></dd>
<dt>${t(T.server)}</dt><dd><code>${esc(server)}</code></dd>
<dt>${t(T.home)}</dt><dd><code>${esc(labUrl(config, '/'))}</code></dd>
<dt>${t(T.page)}</dt><dd><code>${esc(labUrl(config, `/~${c.name}/`))}</code></dd>
</dl>
<div class="tables">${portTables}</div>
</section>`;
  const body = cards.map((c) => card(c, t(T.card))).join('\n');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<meta name="portlab-home" content="${esc(labUrl(config, '/'))}">
<title>${t(T.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1em; color: #000; }
.screen { max-width: 60em; padding: .6em 1em; background: #fff4d6; border: 1px solid #d9b54a; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, 95mm); gap: 0; }
.card { box-sizing: border-box; width: 95mm; height: 92mm; padding: 4mm 5mm; border: 1px dashed #888;
  break-inside: avoid; page-break-inside: avoid; font-size: 9pt; overflow: hidden; }
.card h2 { font-size: 10pt; margin: 0 0 1mm; }
.who { margin: 0 0 1mm; font-weight: bold; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4mm 3mm; margin: 0 0 2mm; }
dt { color: #444; } dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.secret { font-size: 12pt; font-weight: bold; letter-spacing: .05em; }
.tables { display: flex; gap: 4mm; }
.ports { border-collapse: collapse; font-size: 8pt; }
.ports th, .ports td { border: 1px solid #bbb; padding: 0 1.5mm; text-align: left; }
@page { size: A4; margin: 10mm; }
@media print {
  body { margin: 0; }
  .screen { display: none; }
  .sheet { grid-template-columns: 95mm 95mm; }
}
</style>
</head>
<body>
<p class="screen">${t(T.screen)}</p>
<main class="sheet">
${body}
</main>
</body>
</html>
`;
}

/**
 * The cards of $DATA/class/cards.html read back: each student's account and the password printed on
 * it (cardsHtml writes the account as the list's first <code>, the password as its .secret). Empty
 * without cards. `class cards` prints them again at another address with the same passwords.
 */
export function readCards(config: LabConfig): { name: string; password: string }[] {
  let html: string;
  try {
    html = readFileSync(cardsFile(config), 'utf8');
  } catch {
    return [];
  }
  const cards: { name: string; password: string }[] = [];
  for (const [section] of html.matchAll(/<section class="card">[\s\S]*?<\/section>/g)) {
    const name = /<dl>\s*<dt>[^<]*<\/dt><dd><code>([^<]*)<\/code>/.exec(section)?.[1];
    const password = /<code class="secret">([^<]*)<\/code>/.exec(section)?.[1];
    if (name !== undefined && password !== undefined)
      cards.push({ name: unesc(name), password: unesc(password) });
  }
  return cards;
}

/**
 * The home page the cards in $DATA/class/ give (their `portlab-home` meta), and their language;
 * null without cards, or with cards made before the meta was written.
 */
export function cardsHome(config: LabConfig): { home: string; lang: Lang } | null {
  let html: string;
  try {
    html = readFileSync(cardsFile(config), 'utf8');
  } catch {
    return null;
  }
  const home = /<meta name="portlab-home" content="([^"]*)">/.exec(html)?.[1];
  if (home === undefined) return null;
  const lang = /<html lang="fr">/.test(html) ? 'fr' : 'en';
  return { home, lang }; // A URL of an address and a port: no entity to undo.
}

/**
 * `portlab up`'s one line when the cards were made for another address or port than the lab's
 * (a class made without PORTLAB_HOST, then `up --host 192.168.1.20`): students would type an
 * address where nothing answers. In the cards' language. Null when they agree, or without cards.
 * `class cards` prints them again for this address, with the same passwords (read from the old
 * cards, the only place they are in clear), and wipes nothing: the lab may even go on running.
 */
export function staleCardsWarning(config: LabConfig): string | null {
  const cards = cardsHome(config);
  const home = labUrl(config, '/');
  if (!cards || cards.home === home) return null;
  const env = [`PORTLAB_HOST=${config.host}`];
  if (config.publicAddress !== config.host) env.push(`PORTLAB_PUBLIC_ADDRESS=${config.publicAddress}`);
  const remake = `${env.join(' ')} npx portlab class cards`;
  const file = cardsFile(config);
  return {
    fr: `attention : les cartes de la classe (${file}) donnent ${cards.home}, mais ce lab est à ${home} ; pour les refaire à cette adresse, lancez ${remake} dans un autre terminal (mêmes mots de passe, rien n'est effacé), puis réimprimez-les.`,
    en: `warning: the class cards (${file}) give ${cards.home}, but this lab is at ${home}; to make them again for this address, run ${remake} in another terminal (same passwords, nothing is wiped), then print them again.`,
  }[cards.lang];
}

/**
 * Writes the cards, readable by the lab's owner only (0600, in a 0700 folder): it holds passwords in
 * clear. Written to a temp file with that mode and renamed, so no reader ever sees it wider.
 */
export function writeCards(config: LabConfig, html: string): string {
  const file = cardsFile(config);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, html, { mode: 0o600 });
  chmodSync(tmp, 0o600); // the mode of writeFileSync is cut by the umask; this one is exact
  renameSync(tmp, file);
  return file;
}
