/**
 * Which block to ask which peer for next (BEP 3 leaves the strategy to the client; this is the
 * classic one):
 * - rarest first: a new piece is the one the fewest connected peers have, so rare pieces spread
 *   before their only holder leaves;
 * - one owner per piece: a peer finishes the pieces it started, so each piece has one source
 *   (and a bad piece has one culprit);
 * - endgame: when every missing block is already asked for, ask other peers too, and cancel the
 *   duplicates when the first copy arrives.
 * `P` is whatever stands for a peer (a connection).
 */
import type { Bitfield } from './bitfield.js';
import { BLOCK_SIZE, type BlockRef } from './wire/messages.js';

interface Block {
  /**
   * The bytes, once received: a view of the chunk the socket read (which it keeps alive until the
   * piece is written), not a copy. The piece is hashed and written block by block, so its bytes are
   * never gathered into one buffer: at hundreds of MB/s, each copy costs about as much as the SHA-1.
   */
  data: Buffer | undefined;
  requestedBy: Set<unknown>;
}

class PieceInProgress<P> {
  blocks: Block[];
  received = 0;
  /** Bytes of this piece from each peer. */
  sources = new Map<P, number>();
  owner: P | undefined;
  /** Lost its owner or failed its hash: the next peer to take it re-requests it. */
  retry = false;
  /** Peers that sent a bad copy of this piece: not asked for it again. */
  readonly excluded = new Set<P>();

  constructor(
    readonly index: number,
    readonly length: number,
  ) {
    this.blocks = this.freshBlocks();
  }

  reset(): void {
    this.blocks = this.freshBlocks();
    this.received = 0;
    this.sources = new Map();
    this.owner = undefined;
    this.retry = true;
  }

  blockLength(i: number): number {
    return Math.min(BLOCK_SIZE, this.length - i * BLOCK_SIZE);
  }

  private freshBlocks(): Block[] {
    return Array.from({ length: Math.ceil(this.length / BLOCK_SIZE) }, () => ({
      data: undefined,
      requestedBy: new Set(),
    }));
  }
}

/** What a web seed holds: every piece. */
const EVERY_PIECE = { has: () => true };

export interface Picked {
  blocks: BlockRef[];
  /** Pieces this peer now re-requests (their previous source failed or left). */
  retried: number[];
}

export interface Received<P> {
  /** Peers that were also asked for this block (endgame): send them a cancel. */
  cancel: P[];
  /** The whole piece, once its last block is in, as its blocks in order: check its SHA-1 before keeping it. */
  complete?: { blocks: Buffer[]; sources: Map<P, number> };
}

export class PiecePicker<P> {
  /** How many connected peers have each piece. */
  private readonly availability: Uint32Array;
  private readonly active = new Map<number, PieceInProgress<P>>();

  constructor(
    private readonly have: Bitfield,
    private readonly sizeOf: (index: number) => number,
  ) {
    this.availability = new Uint32Array(have.size);
  }

  peerHas(index: number): void {
    this.availability[index]!++;
  }

  /** A peer left: its pieces no longer count. */
  peerGone(has: Bitfield): void {
    for (let i = 0; i < has.size; i++) if (has.has(i)) this.availability[i]!--;
  }

  /** Up to `room` blocks to request from `peer`, whose pieces are `has`. */
  next(peer: P, has: Bitfield, room: number): Picked {
    const picked: Picked = { blocks: [], retried: [] };
    const usable = (p: PieceInProgress<P>) => has.has(p.index) && !p.excluded.has(peer);
    // First the pieces this peer started, and those whose source left or failed.
    for (const p of this.active.values()) {
      if (p.owner === peer || (p.owner === undefined && usable(p))) this.take(p, peer, room, picked, false);
    }
    while (picked.blocks.length < room) {
      const index = this.rarest(has);
      if (index < 0) break;
      const p = new PieceInProgress<P>(index, this.sizeOf(index));
      this.active.set(index, p);
      this.take(p, peer, room, picked, false);
    }
    // No new piece this peer could give: help with pieces others started or left.
    for (const p of this.active.values()) if (usable(p)) this.take(p, peer, room, picked, false);
    if (picked.blocks.length < room && this.everythingRequested()) {
      for (const p of this.active.values()) if (usable(p)) this.take(p, peer, room, picked, true);
    }
    return picked;
  }

  /**
   * A whole piece for a source that sends whole pieces, a web seed (BEP 19): one nobody works on,
   * the rarest among the peers first (what they lack is where the web seed helps most). Every block
   * of it is requested from `source`. Undefined when no piece is left to take.
   */
  claim(source: P): number | undefined {
    const idle = (p: PieceInProgress<P>) =>
      p.owner === undefined &&
      !p.excluded.has(source) &&
      p.blocks.every((b) => !b.data && b.requestedBy.size === 0);
    let p = [...this.active.values()].find(idle);
    if (!p) {
      const index = this.rarest(EVERY_PIECE);
      if (index < 0) return undefined;
      p = new PieceInProgress<P>(index, this.sizeOf(index));
      this.active.set(index, p);
    }
    this.take(p, source, Number.POSITIVE_INFINITY, { blocks: [], retried: [] }, false);
    return p.index;
  }

  /** A block arrived from `peer`. Blocks we did not ask for, or already have, are ignored. */
  received(peer: P, index: number, begin: number, data: Buffer): Received<P> {
    const p = this.active.get(index);
    const block = p?.blocks[begin / BLOCK_SIZE];
    if (!p || !block || block.data) return { cancel: [] };
    block.data = data;
    p.received++;
    p.sources.set(peer, (p.sources.get(peer) ?? 0) + data.length);
    const cancel = [...block.requestedBy].filter((other) => other !== peer) as P[];
    block.requestedBy.clear();
    if (p.received < p.blocks.length) return { cancel };
    return { cancel, complete: { blocks: p.blocks.map((b) => b.data!), sources: p.sources } };
  }

  /** The piece passed its hash check and is ours. */
  verified(index: number): void {
    this.active.delete(index);
  }

  /** The piece failed its hash check: ask again, but not the peers that sent this copy. */
  failed(index: number): void {
    const p = this.active.get(index);
    if (!p) return;
    for (const source of p.sources.keys()) p.excluded.add(source);
    p.reset();
  }

  /** `peer` will not send this block (it choked us, or left). */
  unrequest(peer: P, ref: BlockRef): void {
    this.active.get(ref.index)?.blocks[ref.begin / BLOCK_SIZE]?.requestedBy.delete(peer);
  }

  /** `peer` left: the pieces it owned go to whoever asks next. */
  release(peer: P): void {
    for (const p of this.active.values()) {
      if (p.owner === peer) {
        p.owner = undefined;
        p.retry = true;
      }
      for (const block of p.blocks) block.requestedBy.delete(peer);
    }
  }

  private take(p: PieceInProgress<P>, peer: P, room: number, picked: Picked, endgame: boolean): void {
    let took = false;
    for (let i = 0; i < p.blocks.length && picked.blocks.length < room; i++) {
      const block = p.blocks[i]!;
      if (block.data || block.requestedBy.has(peer)) continue;
      if (block.requestedBy.size > 0 && !endgame) continue;
      block.requestedBy.add(peer);
      picked.blocks.push({ index: p.index, begin: i * BLOCK_SIZE, length: p.blockLength(i) });
      took = true;
    }
    if (!took || endgame) return;
    p.owner ??= peer;
    if (p.retry) {
      p.retry = false;
      picked.retried.push(p.index);
    }
  }

  /**
   * The missing piece the fewest peers have, starting the scan at a random place to break ties.
   * A piece only this peer has is as rare as can be: the scan stops there (from a lone seeder,
   * every piece is one).
   */
  private rarest(has: Pick<Bitfield, 'has'>): number {
    const count = this.have.size;
    const start = Math.floor(Math.random() * count);
    let best = -1;
    for (let k = 0; k < count; k++) {
      const i = (start + k) % count;
      if (!has.has(i) || this.have.has(i) || this.active.has(i)) continue;
      if (best < 0 || this.availability[i]! < this.availability[best]!) best = i;
      if (this.availability[best]! <= 1) break;
    }
    return best;
  }

  private everythingRequested(): boolean {
    if (this.have.pieces + this.active.size < this.have.size) return false;
    for (const p of this.active.values()) {
      if (p.blocks.some((b) => !b.data && b.requestedBy.size === 0)) return false;
    }
    return true;
  }
}
