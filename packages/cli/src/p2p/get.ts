import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_STALL_SECONDS, formatBytes, parseMetainfo, watchForStall } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { table } from '../format.js';
import { onInterrupt, reportWarnings, startPeer } from './peers.js';
import { Progress } from './progress.js';
import { type Lang, say } from './say.js';
import { clientText, stallText } from './texts.js';

/**
 * `portlab p2p get TORRENT [--out DIR] [--rate R]`: downloads the file from every peer that has
 * pieces of it (and uploads to the others meanwhile, within --rate), then says where each piece
 * came from. Pieces already in DIR are checked and kept: an interrupted download resumes.
 * With no piece for --stall-timeout seconds (default 60), it stops and says what to check.
 */
export async function get(
  config: LabConfig,
  torrentFile: string,
  options: { out?: string; rate?: number; stallTimeout?: number; user?: string; host?: string; lang?: Lang },
) {
  const meta = parseMetainfo(await readFile(torrentFile), torrentFile);
  const target = path.join(options.out ?? '.', meta.name);
  const node = await startPeer(config, options);
  const torrent = await node.add(meta, target, { create: true });
  const lang = options.lang ?? 'en';
  reportWarnings(torrent, 'tracker: ', lang);
  const size = formatBytes(meta.length);
  const n = meta.pieceHashes.length;
  const at = `${node.publicAddress ?? node.host}:${node.port}`;
  console.log(
    say(lang, {
      fr: `téléchargement de ${meta.name} (${size}, ${n} morceaux) vers ${target} ; ce pair écoute sur ${at}`,
      en: `downloading ${meta.name} (${size}, ${n} pieces) to ${target}; this peer listens on ${at}`,
    }),
  );
  const had = torrent.have.pieces;
  if (had > 0)
    console.log(
      say(lang, {
        fr: `reprise : ${had} morceaux déjà sur le disque`,
        en: `resuming: ${had} pieces already on disk`,
      }),
    );
  const progress = new Progress(torrent, lang);
  const finished = torrent.complete
    ? Promise.resolve(true)
    : new Promise<boolean>((r) => torrent.once('done', () => r(true)));
  const interrupted = new Promise<boolean>((resolve) => onInterrupt(async () => resolve(false)));
  const stall = watchForStall(torrent, options.stallTimeout ?? DEFAULT_STALL_SECONDS, torrent.trackerUrl);
  const outcome = await Promise.race([finished, interrupted, stall.stalled]);
  stall.stop();
  progress.stop();
  const complete = outcome === true;
  if (typeof outcome === 'object') {
    await node.close();
    console.error(stallText(lang, outcome));
    const counts = `${torrent.have.pieces}/${torrent.have.size}`;
    console.error(
      say(lang, {
        fr: `arrêté : ${counts} morceaux ; relancez la même commande pour reprendre.`,
        en: `stopped: ${counts} pieces; run the same command again to resume.`,
      }),
    );
    return 1;
  }
  await node.close();
  const seconds = progress.elapsedSeconds;
  const sources = [...torrent.sources.values()].sort((a, b) => b.pieces - a.pieces);
  console.log(
    table(
      say(lang, { fr: 'pair,client,morceaux,octets,part', en: 'peer,client,pieces,bytes,share' }).split(','),
      sources.map((s) => [
        s.address,
        clientText(lang, s.client),
        s.pieces,
        s.bytes,
        `${Math.round((s.pieces / meta.pieceHashes.length) * 100)}%`,
      ]),
    ),
  );
  // BEP 19: what the web seeds sent against what the peers did, the figure lab 06 asks about.
  const web = sources.filter((s) => s.address.startsWith('web ')).reduce((sum, s) => sum + s.bytes, 0);
  const peers = sources.reduce((sum, s) => sum + s.bytes, 0) - web;
  if (torrent.webSeeds.length > 0) {
    console.log(
      say(lang, {
        fr: `octets par HTTP (sources web) : ${web} ; par les pairs : ${peers}`,
        en: `bytes by HTTP (web seeds): ${web}; from peers: ${peers}`,
      }),
    );
  }
  const counts = `${torrent.have.pieces}/${torrent.have.size}`;
  const time = `${seconds.toFixed(1)} s (${formatBytes(torrent.downloaded / seconds)}/s)`;
  console.log(
    say(lang, {
      fr: `${complete ? 'terminé' : 'interrompu'} : ${counts} morceaux de ${sources.length} pair(s) en ${time}`,
      en: `${complete ? 'complete' : 'interrupted'}: ${counts} pieces from ${sources.length} peer(s) in ${time}`,
    }),
  );
  return complete ? 0 : 130;
}
