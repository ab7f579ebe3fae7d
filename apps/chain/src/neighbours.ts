/**
 * Finding neighbours without a server of our own: the lab tracker, the one that tells BitTorrent peers
 * about each other, tells chain nodes too. Every node announces under the same info-hash,
 * SHA-1("portlab-chain-regtest"), as if sharing one torrent; the tracker's answer lists the others,
 * and we dial a few. The tracker only introduces: blocks never go through it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { announce } from '@portlab/bittorrent';
import type { ChainNode } from '@portlab/chain';

export const CHAIN_INFO_HASH = createHash('sha1').update('portlab-chain-regtest').digest();
const MAX_DIALS = 8;

export interface Meeting {
  trackerUrl: string;
  /** Addresses that are ours, not to dial (the lab's host and public address). */
  ownHosts: string[];
  localAddress?: string;
}

/** One announce; dials up to 8 of the nodes listed. Returns the seconds until the next one. */
export async function meet(node: ChainNode, m: Meeting, peerId: Buffer = randomBytes(20)): Promise<number> {
  try {
    const r = await announce(m.trackerUrl, {
      infoHash: CHAIN_INFO_HASH,
      peerId,
      port: node.port,
      uploaded: 0,
      downloaded: 0,
      // Not 0: a tracker gives a seed (left 0) only peers still downloading, and every node is both.
      left: 1,
      numwant: 50,
      ...(m.localAddress ? { localAddress: m.localAddress } : {}),
    });
    const dials: Promise<unknown>[] = [];
    for (const p of r.peers) {
      if (p.port === node.port && m.ownHosts.includes(p.ip)) continue;
      if (node.peers.size + dials.length < MAX_DIALS)
        dials.push(node.connect(p.ip, p.port).catch(() => undefined));
      else node.known.add(`${p.ip}:${p.port}`);
    }
    await Promise.all(dials);
    return Math.min(Math.max(r.interval, 30), 300);
  } catch {
    return 60;
  }
}

/** Announces now and then again at the tracker's interval, until the process ends. */
export function keepMeeting(node: ChainNode, m: Meeting): void {
  const peerId = Buffer.concat([Buffer.from('-PL0100-'), randomBytes(12)]);
  const loop = async () => {
    const next = await meet(node, m, peerId);
    setTimeout(loop, next * 1000).unref();
  };
  void loop();
}
