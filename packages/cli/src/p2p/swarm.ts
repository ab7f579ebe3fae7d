import { formatBytes, type PeerNode } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { table } from '../format.js';
import { onInterrupt, openShared, reportWarnings, startPeer } from './peers.js';
import { type Lang, say } from './say.js';

/**
 * `portlab p2p swarm FILE --peers N --rate R`: N seeding peers in this one process, each a simulated
 * machine with its own port and its own upload cap, as N classmates sharing the same file.
 */
export async function swarm(
  config: LabConfig,
  fileOrTorrent: string,
  options: { peers: number; rate?: number; lang?: Lang },
) {
  const shared = await openShared(config, fileOrTorrent);
  const nodes: PeerNode[] = [];
  const taken = new Set<number>();
  const lang = options.lang ?? 'en';
  for (let i = 0; i < options.peers; i++) {
    const node = await startPeer(config, { ...(options.rate ? { rate: options.rate } : {}), exclude: taken });
    taken.add(node.port);
    reportWarnings(
      await node.add(shared.meta, shared.dataFile, { create: false }),
      say(lang, { fr: `pair ${node.port} : `, en: `peer ${node.port}: ` }),
      lang,
    );
    nodes.push(node);
  }
  const cap =
    options.rate && Number.isFinite(options.rate)
      ? `${formatBytes(options.rate)}/s`
      : say(lang, { fr: 'aucune', en: 'none' });
  const what = `${shared.meta.name} (${formatBytes(shared.meta.length)})`;
  console.log(
    say(lang, { fr: `${nodes.length} pairs partagent ${what} :`, en: `${nodes.length} peers seed ${what}:` }),
  );
  console.log(
    table(
      say(lang, { fr: "pair,port,limite d'envoi", en: 'peer,port,upload cap' }).split(','),
      nodes.map((n, i) => [`#${i + 1}`, n.port, cap]),
    ),
  );
  console.log(
    say(lang, {
      fr: `téléchargez-le avec : portlab p2p get ${shared.torrentFile}   (Ctrl-C arrête l'essaim)`,
      en: `download it with: portlab p2p get ${shared.torrentFile}   (Ctrl-C stops the swarm)`,
    }),
  );
  onInterrupt(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });
  return new Promise<number>(() => undefined);
}
