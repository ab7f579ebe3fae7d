import { formatBytes } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { onInterrupt, openShared, reportWarnings, startPeer } from './peers.js';

/** `portlab p2p seed FILE|TORRENT [--rate R] [--port N]`: one peer sharing one file until Ctrl-C. */
export async function seed(
  config: LabConfig,
  fileOrTorrent: string,
  options: { rate?: number; port?: number; user?: string },
): Promise<number> {
  const shared = await openShared(config, fileOrTorrent);
  const node = await startPeer(config, options);
  const torrent = await node.add(shared.meta, shared.dataFile, { create: false });
  reportWarnings(torrent, '');
  const cap = options.rate && Number.isFinite(options.rate) ? `${formatBytes(options.rate)}/s` : 'none';
  console.log(
    `seeding ${shared.meta.name} (${torrent.have.pieces}/${torrent.have.size} pieces) on ${node.publicAddress ?? node.host}:${node.port}, upload cap ${cap}`,
  );
  console.log(`others download it with: portlab p2p get ${shared.torrentFile}   (Ctrl-C to stop)`);
  torrent.on('peer', (address) => console.log(`peer ${address} connected`));
  torrent.on('peer-gone', (address, reason) => console.log(`peer ${address} gone (${reason})`));
  onInterrupt(async () => {
    await node.close();
    console.log(`stopped; uploaded ${formatBytes(torrent.uploaded)}`);
  });
  return new Promise(() => undefined); // runs until Ctrl-C
}
