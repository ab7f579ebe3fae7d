/**
 * The upload side of one torrent: whom we let download from us, and the blocks we send them.
 * - choking (BEP 3 leaves the algorithm to the client): at most `slots` interested peers are
 *   unchoked at once; every `rechokeMs` the one unchoked longest makes room for one that waits
 *   (round robin: everyone gets a turn), and a slot that frees (the peer lost interest, or left)
 *   goes to the peer that waited longest;
 * - serving: a request from an unchoked peer for a piece we have is queued on its wire, and sent
 *   once the upload cap (a TokenBucket shared by the peer's torrents) lets it through.
 * The wires themselves own their flags (wire/peer-wire.ts): the choker only calls `choke()` and
 * `unchoke()`.
 */
import type { TokenBucket } from './rate.js';
import type { UploadBlock } from './storage.js';
import type { BlockRef } from './wire/messages.js';
import type { PeerWire } from './wire/peer-wire.js';

export const UNCHOKE_SLOTS = 4;
export const RECHOKE_MS = 10_000;

/** What the choker needs from the torrent it uploads for. */
export interface UploadSource {
  /** Whether we have this piece: requests for others are not answered (BEP 3). */
  has(index: number): boolean;
  pieceSize(index: number): number;
  /** A block's bytes, and a callback to call once they left (see FileStorage.read). */
  read(index: number, begin: number, length: number): UploadBlock;
}

export interface ChokerOptions {
  /** The torrent's connections: the choker reads it, the torrent adds and removes. */
  wires: ReadonlySet<PeerWire>;
  source: UploadSource;
  /** The peer's upload cap. */
  upload: TokenBucket;
  slots?: number;
  rechokeMs?: number;
}

export class Choker {
  /** Bytes of blocks sent: the announce's `uploaded`. */
  uploaded = 0;
  private readonly wires: ReadonlySet<PeerWire>;
  private readonly source: UploadSource;
  private readonly upload: TokenBucket;
  private readonly slots: number;
  private readonly timer: NodeJS.Timeout;
  /** Connections whose upload loop runs. */
  private readonly serving = new Set<PeerWire>();
  private stopped = false;

  constructor(options: ChokerOptions) {
    this.wires = options.wires;
    this.source = options.source;
    this.upload = options.upload;
    this.slots = options.slots ?? UNCHOKE_SLOTS;
    this.timer = setInterval(() => this.rechoke(), options.rechokeMs ?? RECHOKE_MS).unref();
  }

  /** The peer said it is interested: it is unchoked if a slot is free. */
  interested(wire: PeerWire): void {
    this.unchokeIfRoom(wire);
  }

  /** The peer is no longer interested: its slot goes to one that waits. */
  uninterested(wire: PeerWire): void {
    wire.choke();
    this.unchokeWaiting();
  }

  /** The connection closed (the torrent already took it out of `wires`): its slot, if it had one, is free. */
  gone(wire: PeerWire): void {
    if (!wire.amChoking) this.unchokeWaiting();
  }

  /** Round robin: if a peer waits, the peer unchoked longest is choked to make room for it. */
  rechoke(): void {
    const waiting = [...this.wires].some((w) => w.amChoking && w.peerInterested);
    const unchoked = [...this.wires]
      .filter((w) => !w.amChoking)
      .sort((a, b) => a.chokeChangedAt - b.chokeChangedAt);
    if (waiting && unchoked.length >= this.slots) unchoked[0]!.choke();
    this.unchokeWaiting();
  }

  /** A request the torrent checked (in range, one block at most): queued and served if we may. */
  request(wire: PeerWire, ref: BlockRef): void {
    // BEP 3: requests from a choked peer, or for a piece we lack, are not answered.
    if (wire.amChoking || !this.source.has(ref.index)) return;
    wire.uploads.push(ref);
    if (!this.serving.has(wire)) void this.serve(wire);
  }

  /** The torrent stopped: no more rechoking, and a failed read is no longer the peer's concern. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private unchokeIfRoom(wire: PeerWire): void {
    const unchoked = [...this.wires].filter((w) => !w.amChoking).length;
    if (wire.amChoking && wire.peerInterested && unchoked < this.slots) wire.unchoke();
  }

  private unchokeWaiting(): void {
    const waiting = [...this.wires].filter((w) => w.amChoking && w.peerInterested);
    for (const wire of waiting.sort((a, b) => a.chokeChangedAt - b.chokeChangedAt)) this.unchokeIfRoom(wire);
  }

  /**
   * Sends the requested blocks in order, each after the upload cap lets it through. When the cap
   * has tokens nothing waits: the blocks a chunk of requests asks for go out while that chunk is
   * handled, in one write (see PeerWire.receive). A request that arrives while this loop waits
   * (for tokens, or for the socket to drain) is queued, and the loop takes it.
   */
  private async serve(wire: PeerWire): Promise<void> {
    this.serving.add(wire);
    try {
      while (wire.uploads.length > 0 && !wire.closed && !wire.amChoking) {
        const ref = wire.uploads[0]!;
        if (!this.upload.tryTake(ref.length)) await this.upload.take(ref.length);
        if (wire.uploads[0] !== ref) continue; // cancelled, or choked, while we waited
        const block = this.source.read(ref.index, ref.begin, ref.length);
        wire.uploads.shift();
        const flowing = wire.send(
          { type: 'piece', index: ref.index, begin: ref.begin, block: block.data },
          block.sent,
        );
        this.uploaded += ref.length;
        if (ref.begin + ref.length === this.source.pieceSize(ref.index)) wire.said(`piece ${ref.index} sent`);
        if (!flowing) await wire.drained();
      }
    } catch (err) {
      // The file went away under us (stopped, or deleted by hand): this upload ends here.
      if (!this.stopped) wire.close(`cannot read the file: ${(err as Error).message}`);
    } finally {
      // In the same step as the loop's last check: no request can slip in between and wait forever.
      this.serving.delete(wire);
    }
  }
}
