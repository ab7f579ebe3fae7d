/**
 * `portlab p2p watch TORRENT [--for SECONDS]`: what a rights holder's agent sees of a swarm. The
 * watcher (packages/bittorrent watch/watcher.ts) joins, takes one piece from each peer the tracker
 * lists and checks it, then this prints the record: IP address, port, client, piece, time. The table
 * is also written to $DATA/watch/ (CSV and NDJSON), and each connection to the peer transcript.
 *
 * It watches only swarms of the lab's own tracker: labs share lab-made, free files, and a class has
 * no business recording strangers' addresses.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { labTrackerUrl, parseMetainfo, Watcher, type WatchRow } from '@portlab/bittorrent';
import { type LabConfig, labConnectAddress, urlHost } from '@portlab/config';
import { Transcript } from '@portlab/transcript';
import { table } from '../format.js';
import { onInterrupt } from './peers.js';
import { type Lang, say } from './say.js';
import { trackerText } from './texts.js';

/** The announce URLs that name this lab's tracker: at its public address, or where the lab's clients reach it. */
export function isLabTracker(config: LabConfig, announce: string): boolean {
  const port = config.portOf('tracker');
  const hosts = new Set([config.publicAddress, labConnectAddress(config), config.host].map(urlHost));
  return [...hosts].some((host) => announce === `http://${host}:${port}/announce`);
}

/** What the row's last columns say: the piece and its check, or why there is none. */
function outcome(row: WatchRow, lang: Lang): [string, string] {
  if (row.status === 'piece') return [String(row.piece), row.verified ? '✔' : '✘'];
  if (row.status === 'connected')
    return ['—', say(lang, { fr: 'connecté, aucun morceau', en: 'connected, no piece' })];
  return ['—', say(lang, { fr: 'vu par le tracker seulement', en: 'seen by the tracker only' })];
}

/** CSV (RFC 4180): a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function csvField(value: string | number | boolean | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function watch(
  config: LabConfig,
  torrentFile: string,
  options: { for?: number; peerTimeout?: number; host?: string; user?: string; lang?: Lang },
): Promise<number> {
  const lang = options.lang ?? 'en';
  const meta = parseMetainfo(await readFile(torrentFile), torrentFile);
  if (!isLabTracker(config, meta.announce)) {
    console.error(
      say(lang, {
        fr: `refusé : ${torrentFile} annonce au tracker ${meta.announce}, pas à celui du lab (${labTrackerUrl(config)}). L'observateur ne regarde que les essaims du lab, qui ne partagent que des fichiers libres faits pour lui.`,
        en: `refused: ${torrentFile} announces to the tracker ${meta.announce}, not to the lab's (${labTrackerUrl(config)}). The watcher only looks at the lab's own swarms, which share only free files made for it.`,
      }),
    );
    return 2;
  }
  const host = options.host ?? config.host;
  const transcript = new Transcript('peer', config.portOf('peer'), {
    logDir: config.paths.log,
    ...config.transcript,
    node: `${urlHost(options.host ?? config.publicAddress)}:watch`,
  });
  const local = options.host ?? labConnectAddress(config);
  const watcher = new Watcher({
    meta,
    host,
    localAddress: local,
    publicAddress: options.host ?? config.publicAddress,
    transcript,
    forSeconds: options.for ?? 20,
    peerTimeoutMs: (options.peerTimeout ?? 10) * 1000,
    ...(options.user ? { account: options.user } : {}),
  });
  watcher.on('warning', (message) => console.error(`tracker: ${trackerText(lang, message)}`));
  const seconds = options.for ?? 20;
  console.log(
    say(lang, {
      fr: `observation de l'essaim de ${meta.name} pendant ${seconds} s : un morceau de chaque pair, vérifié (SHA-1)`,
      en: `watching the swarm of ${meta.name} for ${seconds} s: one piece from each peer, checked (SHA-1)`,
    }),
  );
  watcher.on('row', (row) => {
    const [piece, check] = outcome(row, lang);
    console.log(`  ${row.ip}:${row.port}  ${row.client ?? ''}  ${piece} ${check}`);
  });
  onInterrupt(async () => watcher.abort());
  const rows = await watcher.run();
  if (!watcher.trackerAnswered) {
    console.error(
      say(lang, {
        fr: `le tracker ${meta.announce} n'a jamais répondu : le lab tourne-t-il (npx portlab up) ?`,
        en: `the tracker ${meta.announce} never answered: is the lab running (npx portlab up)?`,
      }),
    );
    return 1;
  }
  const header = say(lang, {
    fr: 'adresse IP,port,client,morceau,vérifié,heure (UTC)',
    en: 'IP address,port,client,piece,verified,time (UTC)',
  }).split(',');
  console.log(
    table(
      header,
      rows.map((r) => [r.ip, r.port, r.client ?? '?', ...outcome(r, lang), r.at ?? r.listedAt]),
    ),
  );
  const dir = path.join(config.dataDir, 'watch');
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${meta.name}-${new Date().toISOString().replaceAll(':', '-')}`);
  const fields = [
    'ip',
    'port',
    'client',
    'peerId',
    'status',
    'piece',
    'verified',
    'at',
    'listedAt',
    'note',
  ] as const;
  await writeFile(
    `${base}.csv`,
    [fields.join(','), ...rows.map((r) => fields.map((f) => csvField(r[f])).join(','))].join('\r\n') + '\r\n',
  );
  const torrent = meta.infoHash.toString('hex');
  await writeFile(
    `${base}.ndjson`,
    rows.map((r) => JSON.stringify({ torrent, name: meta.name, ...r })).join('\n') +
      (rows.length ? '\n' : ''),
  );
  transcript.flush();
  const verified = rows.filter((r) => r.verified).length;
  console.log(
    say(lang, {
      fr: `${rows.length} pair(s) listé(s) par le tracker, ${verified} morceau(x) vérifié(s) ; enregistré dans ${base}.csv et .ndjson`,
      en: `${rows.length} peer(s) listed by the tracker, ${verified} verified piece(s); saved to ${base}.csv and .ndjson`,
    }),
  );
  return 0;
}
