import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_STALL_SECONDS, formatBytes, parseMetainfo, watchForStall } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { table } from '../format.js';
import { onInterrupt, reportWarnings, startPeer } from './peers.js';
import { Progress } from './progress.js';

/**
 * `portlab p2p get TORRENT [--out DIR] [--rate R]`: downloads the file from every peer that has
 * pieces of it (and uploads to the others meanwhile, within --rate), then says where each piece
 * came from. Pieces already in DIR are checked and kept: an interrupted download resumes.
 * With no piece for --stall-timeout seconds (default 60), it stops and says what to check.
 */
export async function get(
  config: LabConfig,
  torrentFile: string,
  options: { out?: string; rate?: number; stallTimeout?: number; user?: string },
) {
  const meta = parseMetainfo(await readFile(torrentFile), torrentFile);
  const target = path.join(options.out ?? '.', meta.name);
  const node = await startPeer(config, options);
  const torrent = await node.add(meta, target, { create: true });
  reportWarnings(torrent, 'tracker: ');
  console.log(
    `downloading ${meta.name} (${formatBytes(meta.length)}, ${meta.pieceHashes.length} pieces) to ${target}; this peer listens on ${node.publicAddress ?? node.host}:${node.port}`,
  );
  if (torrent.have.pieces > 0) console.log(`resuming: ${torrent.have.pieces} pieces already on disk`);
  const progress = new Progress(torrent);
  const finished = torrent.complete
    ? Promise.resolve(true)
    : new Promise<boolean>((r) => torrent.once('done', () => r(true)));
  const interrupted = new Promise<boolean>((resolve) => onInterrupt(async () => resolve(false)));
  const stall = watchForStall(torrent, options.stallTimeout ?? DEFAULT_STALL_SECONDS, torrent.trackerUrl);
  const outcome = await Promise.race([finished, interrupted, stall.stalled]);
  stall.stop();
  progress.stop();
  const complete = outcome === true;
  if (typeof outcome === 'string') {
    await node.close();
    console.error(outcome);
    console.error(
      `stopped: ${torrent.have.pieces}/${torrent.have.size} pieces; run the same command again to resume.`,
    );
    return 1;
  }
  await node.close();
  const seconds = progress.elapsedSeconds;
  const sources = [...torrent.sources.values()].sort((a, b) => b.pieces - a.pieces);
  console.log(
    table(
      ['peer', 'client', 'pieces', 'bytes', 'share'],
      sources.map((s) => [
        s.address,
        s.client,
        s.pieces,
        s.bytes,
        `${Math.round((s.pieces / meta.pieceHashes.length) * 100)}%`,
      ]),
    ),
  );
  console.log(
    `${complete ? 'complete' : 'interrupted'}: ${torrent.have.pieces}/${torrent.have.size} pieces from ${sources.length} peer(s) in ${seconds.toFixed(1)} s (${formatBytes(torrent.downloaded / seconds)}/s)`,
  );
  return complete ? 0 : 130;
}
