/**
 * What the tracker knows: for each torrent (by info_hash), the peers that announced it lately.
 * A peer that stops announcing (crashed, unplugged) is forgotten after two intervals.
 */

export interface PeerEntry {
  ip: string;
  port: number;
  peerId: Buffer;
  /** Bytes the peer still lacks: 0 for a seed. */
  left: number;
  seenAt: number;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  /** How many peers said "completed" (BEP 48's `downloaded`). */
  downloaded: number;
}

export class Swarms {
  private readonly swarms = new Map<string, { peers: Map<string, PeerEntry>; downloaded: number }>();

  constructor(
    private readonly expireMs: number,
    private readonly limits = { swarms: 1000, peersPerSwarm: 1000 },
  ) {}

  /** Records an announce. Returns false when a limit is reached (the tracker says so). */
  update(infoHash: string, peer: PeerEntry, event: string | undefined): boolean {
    let swarm = this.swarms.get(infoHash);
    if (!swarm) {
      if (this.swarms.size >= this.limits.swarms) return false;
      swarm = { peers: new Map(), downloaded: 0 };
      this.swarms.set(infoHash, swarm);
    }
    const key = `${peer.ip}:${peer.port}`;
    if (event === 'stopped') {
      swarm.peers.delete(key);
      return true;
    }
    if (!swarm.peers.has(key) && swarm.peers.size >= this.limits.peersPerSwarm) return false;
    if (event === 'completed') swarm.downloaded++;
    swarm.peers.set(key, peer);
    return true;
  }

  /** Up to `count` other peers, in random order; a seed only gets peers that still download. */
  peersFor(infoHash: string, asker: PeerEntry, count: number): PeerEntry[] {
    const others = this.alive(infoHash).filter(
      (p) => !(p.ip === asker.ip && p.port === asker.port) && (asker.left > 0 || p.left > 0),
    );
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    return others.slice(0, count);
  }

  counts(infoHash: string): SwarmCounts {
    const peers = this.alive(infoHash);
    const complete = peers.filter((p) => p.left === 0).length;
    return {
      complete,
      incomplete: peers.length - complete,
      downloaded: this.swarms.get(infoHash)?.downloaded ?? 0,
    };
  }

  infoHashes(): string[] {
    return [...this.swarms.keys()];
  }

  private alive(infoHash: string): PeerEntry[] {
    const swarm = this.swarms.get(infoHash);
    if (!swarm) return [];
    const oldest = Date.now() - this.expireMs;
    for (const [key, peer] of swarm.peers) if (peer.seenAt < oldest) swarm.peers.delete(key);
    return [...swarm.peers.values()];
  }
}
