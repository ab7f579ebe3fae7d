import { formatBytes } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { onInterrupt, openShared, reportWarnings, startPeer } from './peers.js';
import { type Lang, say } from './say.js';
import { reasonText } from './texts.js';

/**
 * What `portlab p2p seed --json` prints, on one line, once the peer listens: for a program (lab 5's
 * and lab 6's demos start seeders this way), so that it reads facts, not the sentences meant for people.
 */
export interface SeedingLine {
  event: 'seeding';
  /** The file shared, as the torrent names it. */
  name: string;
  /** The torrent's info hash, hex (BEP 3: the SHA-1 of the bencoded info dictionary). */
  infoHash: string;
  /** The .torrent read (or made beside the file), as given or made. */
  torrent: string;
  /** The data file shared. */
  file: string;
  /** The address the peer listens on, and the one it announces (the same unless behind NAT). */
  host: string;
  publicAddress: string;
  /** "address:port", as other peers reach it. */
  address: string;
  port: number;
  /** Pieces it has, of how many. */
  have: number;
  pieces: number;
  /** Upload cap in bytes per second, or null for none. */
  rate: number | null;
}

/** `portlab p2p seed FILE|TORRENT [--rate R] [--port N] [--json]`: one peer sharing one file until Ctrl-C. */
export async function seed(
  config: LabConfig,
  fileOrTorrent: string,
  options: { rate?: number; port?: number; user?: string; host?: string; lang?: Lang; json?: boolean },
): Promise<number> {
  const shared = await openShared(config, fileOrTorrent);
  const node = await startPeer(config, options);
  const torrent = await node.add(shared.meta, shared.dataFile, { create: false });
  reportWarnings(torrent, '', options.lang ?? 'en');
  if (options.json) {
    const publicAddress = node.publicAddress ?? node.host;
    const line: SeedingLine = {
      event: 'seeding',
      name: shared.meta.name,
      infoHash: shared.meta.infoHash.toString('hex'),
      torrent: shared.torrentFile,
      file: shared.dataFile,
      host: node.host,
      publicAddress,
      address: `${publicAddress}:${node.port}`,
      port: node.port,
      have: torrent.have.pieces,
      pieces: torrent.have.size,
      rate: options.rate && Number.isFinite(options.rate) ? options.rate : null,
    };
    // The one line on stdout: warnings go to stderr (reportWarnings), peers coming and going unsaid.
    console.log(JSON.stringify(line));
    onInterrupt(() => node.close());
    return new Promise(() => undefined); // runs until Ctrl-C
  }
  const lang = options.lang ?? 'en';
  const none = say(lang, { fr: 'aucune', en: 'none' });
  const cap = options.rate && Number.isFinite(options.rate) ? `${formatBytes(options.rate)}/s` : none;
  const name = shared.meta.name;
  const have = `${torrent.have.pieces}/${torrent.have.size}`;
  const at = `${node.publicAddress ?? node.host}:${node.port}`;
  console.log(
    say(lang, {
      fr: `partage ${name} (${have} morceaux) sur ${at}, limite d'envoi ${cap}`,
      en: `seeding ${name} (${have} pieces) on ${at}, upload cap ${cap}`,
    }),
  );
  console.log(
    say(lang, {
      fr: `les autres le téléchargent avec : portlab p2p get ${shared.torrentFile}   (Ctrl-C pour arrêter)`,
      en: `others download it with: portlab p2p get ${shared.torrentFile}   (Ctrl-C to stop)`,
    }),
  );
  torrent.on('peer', (address) =>
    console.log(say(lang, { fr: `pair ${address} connecté`, en: `peer ${address} connected` })),
  );
  torrent.on('peer-gone', (address, reason) =>
    console.log(
      say(lang, {
        fr: `pair ${address} parti (${reasonText(lang, reason)})`,
        en: `peer ${address} gone (${reason})`,
      }),
    ),
  );
  onInterrupt(async () => {
    await node.close();
    const sent = formatBytes(torrent.uploaded);
    console.log(say(lang, { fr: `arrêté ; envoyé ${sent}`, en: `stopped; uploaded ${sent}` }));
  });
  return new Promise(() => undefined); // runs until Ctrl-C
}
