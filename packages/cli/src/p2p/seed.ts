import { formatBytes } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { onInterrupt, openShared, reportWarnings, startPeer } from './peers.js';
import { type Lang, say } from './say.js';

/** `portlab p2p seed FILE|TORRENT [--rate R] [--port N]`: one peer sharing one file until Ctrl-C. */
export async function seed(
  config: LabConfig,
  fileOrTorrent: string,
  options: { rate?: number; port?: number; user?: string; host?: string; lang?: Lang },
): Promise<number> {
  const shared = await openShared(config, fileOrTorrent);
  const node = await startPeer(config, options);
  const torrent = await node.add(shared.meta, shared.dataFile, { create: false });
  reportWarnings(torrent, '');
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
      say(lang, { fr: `pair ${address} parti (${reason})`, en: `peer ${address} gone (${reason})` }),
    ),
  );
  onInterrupt(async () => {
    await node.close();
    const sent = formatBytes(torrent.uploaded);
    console.log(say(lang, { fr: `arrêté ; envoyé ${sent}`, en: `stopped; uploaded ${sent}` }));
  });
  return new Promise(() => undefined); // runs until Ctrl-C
}
