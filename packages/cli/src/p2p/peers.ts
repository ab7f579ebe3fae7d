/**
 * What every `portlab p2p` command shares: reading a torrent (or making one for a plain file), and
 * starting a peer on a free port of the lab's peer range (6881 and up), logging to the lab's
 * transcripts so `portlab watch peer` and the dashboard show it.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createMetainfo,
  labPeerAddresses,
  labTrackerUrl,
  type Metainfo,
  PeerNode,
  parseMetainfo,
  type Torrent,
} from '@portlab/bittorrent';
import { freePort, type LabConfig, urlHost } from '@portlab/config';
import { Transcript } from '@portlab/transcript';
import { exitWithParent } from '../parent.js';
import type { Lang } from './say.js';
import { trackerText } from './texts.js';

export interface Shared {
  meta: Metainfo;
  torrentFile: string;
  /** The data file: beside the .torrent, named as its info says. */
  dataFile: string;
}

/**
 * FILE.torrent is read; any other FILE gets a FILE.torrent beside it (announcing to this lab's
 * tracker), made anew each time so it always names the tracker of the running lab.
 */
export async function openShared(config: LabConfig, fileOrTorrent: string): Promise<Shared> {
  if (!existsSync(fileOrTorrent)) throw new Error(`${fileOrTorrent}: no such file`);
  let torrentFile = fileOrTorrent;
  if (!fileOrTorrent.endsWith('.torrent')) {
    torrentFile = `${fileOrTorrent}.torrent`;
    await writeFile(torrentFile, await createMetainfo(fileOrTorrent, { announce: labTrackerUrl(config) }));
  }
  const meta = parseMetainfo(await readFile(torrentFile), torrentFile);
  return { meta, torrentFile, dataFile: path.join(path.dirname(torrentFile), meta.name) };
}

/**
 * Starts a peer: on `port`, or on the first free port after the resident peer's. With `host`
 * (`--host 127.0.0.N`), the peer is a machine of its own address: it listens there, and announces and
 * dials from there, so the tracker and every other peer see it at that address (Linux answers on all
 * of 127.0.0.0/8; in a classroom each PC has its own address anyway).
 */
export async function startPeer(
  config: LabConfig,
  options: { port?: number; rate?: number; exclude?: Set<number>; user?: string; host?: string },
) {
  if (options.port !== undefined) return listeningPeer(config, options.port, options);
  // A peer started at the same moment (several `portlab p2p seed … &` pasted at once) may bind the
  // port found free before this one does: then this one takes the next free port.
  const taken = new Set(options.exclude);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(options.host ?? config.host, {
      from: config.portOf('peer') + 1,
      exclude: taken,
    }).catch((err: Error) => {
      throw new Error(`${err.message}: stop some peers, or give --port`);
    });
    try {
      return await listeningPeer(config, port, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      taken.add(port);
    }
  }
  throw new Error('every free port found was taken by another peer before this one: give --port');
}

async function listeningPeer(
  config: LabConfig,
  port: number,
  { rate, user, host }: { rate?: number; user?: string; host?: string },
): Promise<PeerNode> {
  const addresses = host ? { host, publicAddress: host, localAddress: host } : labPeerAddresses(config);
  const node = new PeerNode({
    ...addresses,
    port,
    transcript: new Transcript('peer', port, {
      logDir: config.paths.log,
      ...config.transcript,
      // Each simulated machine is its own node on the dashboard's graph, though they share a process.
      node: `${urlHost(addresses.publicAddress)}:${port}`,
    }),
    ...(rate ? { uploadRate: rate } : {}),
    // A seed on a student's PC serves the class: config p2p, as the resident peer.
    maxConnectionsPerAddress: config.p2p.maxConnectionsPerAddress,
    // Announced to the tracker (`user=`): in a class, lab 5's check counts this peer for that account.
    ...(user ? { account: user } : {}),
  });
  await node.listen();
  return node;
}

/** Prints the tracker's complaints (unreachable, refused): the download may still find peers. */
export function reportWarnings(torrent: Torrent, prefix: string, lang: Lang): void {
  let last = '';
  torrent.on('warning', (message) => {
    if (message !== last) console.error(`${prefix}${trackerText(lang, message)}`);
    last = message;
  });
}

/**
 * Runs `stop` on Ctrl-C (and SIGTERM), once; a second Ctrl-C exits at once. The same when the
 * process that started this one goes away (parent.ts): a peer started with `&` and orphaned by
 * `kill $(jobs -p)` stops instead of seeding on, unseen.
 */
export function onInterrupt(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(130);
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  exitWithParent(() => {
    if (!stopping) handler();
  });
}

// The option parsers live in options.ts (no BitTorrent code), re-exported for the commands.
export { hostOption, integerOption, rateOption, userOption } from './options.js';
