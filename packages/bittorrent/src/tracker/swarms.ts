/**
 * What the tracker knows: for each torrent (by info_hash), the peers that announced it lately.
 * A peer that stops announcing (crashed, unplugged) is forgotten after two intervals.
 *
 * Bounded, since every student may announce anything: at most `swarms` torrents, `peersPerSwarm`
 * peers in one, and `peersPerSource` entries (over every torrent) announced from one address. The
 * lab machine's own peers (the resident peer, `portlab p2p swarm`, lab 5's demo) are the
 * teacher's: their announces pass `counted: false`.
 */

export interface PeerEntry {
  ip: string;
  port: number;
  peerId: Buffer;
  /** Bytes the peer still lacks: 0 for a seed. */
  left: number;
  seenAt: number;
  /** The address the announce came from, when it counts against that address's limit. */
  source?: string;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  /** How many peers said "completed" (BEP 48's `downloaded`). */
  downloaded: number;
}

export interface SwarmLimits {
  swarms: number;
  peersPerSwarm: number;
  /**
   * Entries from one source address, over every torrent: one machine runs a few peers (`portlab
   * p2p swarm --peers 50` at most), and must not fill a swarm with made-up ones.
   */
  peersPerSource: number;
}

export const DEFAULT_SWARM_LIMITS: SwarmLimits = { swarms: 1000, peersPerSwarm: 1000, peersPerSource: 64 };

/** Why an announce was not recorded: the tracker's `failure reason`. */
export type Refusal = string;

export class Swarms {
  private readonly swarms = new Map<string, { peers: Map<string, PeerEntry>; downloaded: number }>();
  /** Entries per source address (those that count). */
  private readonly bySource = new Map<string, number>();

  constructor(
    private readonly expireMs: number,
    private readonly limits: SwarmLimits = DEFAULT_SWARM_LIMITS,
  ) {}

  /** Records an announce. Returns why not when a limit is reached (the tracker says so). */
  update(infoHash: string, peer: PeerEntry, event: string | undefined): Refusal | undefined {
    const key = `${peer.ip}:${peer.port}`;
    if (event === 'stopped') {
      if (this.swarms.has(infoHash)) this.remove(infoHash, key);
      return undefined;
    }
    const known = this.swarms.get(infoHash)?.peers.get(key);
    if (!known) {
      const refusal = this.refusal(infoHash, peer.source);
      if (refusal) return refusal;
    }
    let swarm = this.swarms.get(infoHash);
    if (!swarm) {
      swarm = { peers: new Map(), downloaded: 0 };
      this.swarms.set(infoHash, swarm);
    }
    if (event === 'completed') swarm.downloaded++;
    if (known) this.uncount(known);
    swarm.peers.set(key, peer);
    if (peer.source !== undefined) this.bySource.set(peer.source, (this.bySource.get(peer.source) ?? 0) + 1);
    return undefined;
  }

  /** Why a new peer of `infoHash`, announced from `source`, cannot be recorded, if it cannot. */
  private refusal(infoHash: string, source: string | undefined): Refusal | undefined {
    const full = () => {
      const swarm = this.swarms.get(infoHash);
      if (!swarm && this.swarms.size >= this.limits.swarms) return 'this tracker is full: try again later';
      if (swarm && swarm.peers.size >= this.limits.peersPerSwarm)
        return 'this torrent has too many peers: try again later';
      if (source !== undefined && (this.bySource.get(source) ?? 0) >= this.limits.peersPerSource)
        return `too many peers announced from ${source} (${this.limits.peersPerSource}): stop some first (event=stopped)`;
      return undefined;
    };
    // Peers that stopped announcing free their place: forget them before refusing.
    if (!full()) return undefined;
    this.expireAll();
    return full();
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
    for (const [key, peer] of swarm.peers) if (peer.seenAt < oldest) this.remove(infoHash, key);
    return [...swarm.peers.values()];
  }

  /** Forgets the expired peers of every torrent (before refusing an announce for a limit). */
  private expireAll(): void {
    for (const infoHash of [...this.swarms.keys()]) this.alive(infoHash);
  }

  /** Forgets one peer; a torrent left with no peer is forgotten too (its BEP 48 `downloaded` with it). */
  private remove(infoHash: string, key: string): void {
    const swarm = this.swarms.get(infoHash)!;
    const peer = swarm.peers.get(key);
    if (!peer) return;
    swarm.peers.delete(key);
    this.uncount(peer);
    if (swarm.peers.size === 0) this.swarms.delete(infoHash);
  }

  private uncount(peer: PeerEntry): void {
    if (peer.source === undefined) return;
    const left = (this.bySource.get(peer.source) ?? 1) - 1;
    if (left === 0) this.bySource.delete(peer.source);
    else this.bySource.set(peer.source, left);
  }
}
