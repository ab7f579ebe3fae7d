/**
 * One torrent in one peer: the swarm logic the lab shows. It announces to the tracker, dials the
 * peers it is told about, accepts the ones that dial it, and on every connection both downloads
 * (request blocks, check each piece's SHA-1, write it) and uploads (answer requests, within the
 * peer's upload cap). Rules, in BEP 3's words where it has them:
 * - interested: we tell a peer when it has a piece we lack, and when it no longer does;
 * - choking: we upload to at most UNCHOKE_SLOTS interested peers at once, and every 10 s the one
 *   unchoked longest makes room for one that waits (round robin: everyone gets a turn): choker.ts;
 * - pipelining: several block requests stay in flight per peer (`PeerWire.queueDepth`), so the
 *   link never waits for our next request;
 * - a piece whose SHA-1 differs from the metainfo is thrown away and asked from another peer; a
 *   peer that sends MAX_STRIKES bad pieces is dropped and not dialled again;
 * - web seeds (BEP 19, the metainfo's `url-list`, web-seed.ts) are sources too: each takes whole
 *   pieces by HTTP Range requests, hashed like the peers' pieces; a failing one waits, then tries again.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { LineData, Session, Transcript } from '@portlab/transcript';
import { type BencodeLimits, decode, encode } from './bencode.js';
import { Bitfield } from './bitfield.js';
import { Choker } from './choker.js';
import { type Metainfo, pieceSize, sha1 } from './metainfo.js';
import { PiecePicker } from './piece-picker.js';
import type { TokenBucket } from './rate.js';
import type { FileStorage } from './storage.js';
import { announce, type PeerAddress } from './tracker/client.js';
import { WebSeed, WebSeedError } from './web-seed.js';
import { describePeerId, encodeHandshake, type Handshake } from './wire/handshake.js';
import { BLOCK_SIZE, type BlockRef, blockKey, type Message, ProtocolError } from './wire/messages.js';
import { handshakeLine, PeerWire, readHandshake, type WireHandler } from './wire/peer-wire.js';

const MAX_STRIKES = 2;
const MAX_PEERS = 50;
/**
 * Requests one peer may have waiting for our answer, said in our BEP 10 handshake (`reqq`, "the
 * number of outstanding request messages this client supports without dropping any"; libtorrent's
 * default is 250, its limit 500). A peer that sends more is closed: a flood of requests from a peer
 * that never reads must not queue without end. Our own peers keep at most 256 in flight.
 */
export const MAX_PEER_REQUESTS = 500;
const CONNECT_TIMEOUT_MS = 5_000;
/** BEP 10 handshakes are a few hundred bytes. */
const EXTENDED_LIMITS: BencodeLimits = { maxBytes: 64 * 1024, maxDepth: 8 };

/** What a torrent needs from the peer (the simulated machine) that runs it. */
export interface PeerContext {
  readonly peerId: Buffer;
  readonly host: string;
  /** The address others reach this peer at, sent as the announce's `ip`. */
  readonly publicAddress: string | undefined;
  /** The local address announces and dials come from. */
  readonly localAddress: string | undefined;
  /** The port this peer listens on, announced to the tracker. */
  readonly port: number;
  readonly upload: TokenBucket;
  readonly transcript: Transcript;
  /** The lab account this peer announces for (the tracker's `user`), if any. */
  readonly account?: string | undefined;
}

/** A source of pieces: a peer's connection, or a web seed. */
type Source = PeerWire | WebSeed;

/** How much came from one source (a peer's address, or "web <url>"): the table `portlab p2p get` ends with. */
export interface SourceStats {
  address: string;
  client: string;
  pieces: number;
  bytes: number;
}

type TorrentEvents = {
  piece: [index: number, source: string];
  'bad-piece': [index: number, sources: string[]];
  peer: [address: string];
  'peer-gone': [address: string, reason: string];
  /** A web seed's request failed (BEP 19): it is not asked again for `wait` seconds. */
  'web-seed-failed': [address: string, index: number, reason: string, wait: number];
  done: [];
  warning: [message: string];
};

export class Torrent extends EventEmitter<TorrentEvents> implements WireHandler {
  /**
   * Why a connection is closed once neither side wants anything of the other: said in the
   * transcript and in 'peer-gone', which `portlab p2p` shows in the student's language (its p2p/texts.ts).
   */
  static readonly BOTH_COMPLETE = 'both sides have every piece';
  readonly wires = new Set<PeerWire>();
  readonly sources = new Map<string, SourceStats>();
  downloaded = 0;
  /** The web seeds of the metainfo's `url-list` (BEP 19). */
  readonly webSeeds: WebSeed[];
  private readonly picker: PiecePicker<Source>;
  private webTimer: NodeJS.Timeout | undefined;
  private readonly dialing = new Set<string>();
  /** Whom we upload to, and the blocks we send them. */
  private readonly choker: Choker;
  /** Addresses and peer ids of peers dropped for bad pieces. */
  private readonly banned = new Set<string>();
  private announceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private missing = 0;
  /** What the last announce brought: the tracker's error, or how many peers it listed (for a stall's message). */
  lastAnnounce: { error: string } | { peers: number } | null = null;

  /** The info hash in hex: how the tracker, the peers and the transcripts name this torrent. */
  readonly key: string;

  constructor(
    readonly meta: Metainfo,
    readonly storage: FileStorage,
    readonly have: Bitfield,
    private readonly peer: PeerContext,
    readonly trackerUrl = meta.announce,
  ) {
    super();
    this.key = meta.infoHash.toString('hex');
    this.picker = new PiecePicker(have, (i) => pieceSize(meta, i));
    for (let i = 0; i < have.size; i++) if (!have.has(i)) this.missing += pieceSize(meta, i);
    this.choker = new Choker({
      wires: this.wires,
      upload: peer.upload,
      source: {
        has: (index) => have.has(index),
        pieceSize: (index) => pieceSize(meta, index),
        read: (index, begin, length) => storage.read(index, begin, length),
      },
    });
    this.webSeeds = meta.urlList.map((url) => new WebSeed(url, meta.name, peer.transcript));
  }

  /** Bytes we sent, as the tracker's `uploaded`. */
  get uploaded(): number {
    return this.choker.uploaded;
  }

  get complete(): boolean {
    return this.have.complete;
  }

  /** Bytes still missing, as the tracker's `left`. */
  get left(): number {
    return this.missing;
  }

  /**
   * The `data` of a transcript line about this torrent (packages/transcript, LineData): the
   * dashboard draws the swarm from these rather than parse the text. `event` is named as the
   * Torrent's own events are ('piece', 'bad-piece', 'peer', 'peer-gone'), plus 'torrent' (what this
   * peer holds, on its handshake) and 're-request'.
   */
  data(event: string, fields: LineData = {}): LineData {
    return { event, torrent: this.key, ...fields };
  }

  /** Our handshake line's data: the torrent, and how much of it this peer has. */
  describe(): LineData {
    const { name, length, pieceLength } = this.meta;
    return this.data('torrent', {
      name,
      length,
      pieceLength,
      pieces: this.have.size,
      have: this.have.pieces,
    });
  }

  /** Joins the swarm: resolves once the tracker answered the first announce (or failed to). */
  async start(): Promise<void> {
    const announced = this.announce('started');
    if (this.webSeeds.length > 0 && !this.complete) {
      // A web seed out of its backoff is asked again on this beat, even if no piece came meanwhile.
      this.webTimer = setInterval(() => this.fillWeb(), 1000).unref();
      this.fillWeb();
    }
    await announced;
  }

  /** Leaves the swarm politely: tells the tracker, closes every connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.announce('stopped').catch(() => undefined);
    this.halt('stopped');
    await this.storage.close();
  }

  /** Vanishes as a machine that loses power would: no goodbye to the tracker or the peers. */
  destroy(): void {
    this.halt('destroyed');
    void this.storage.close();
  }

  private halt(reason: string): void {
    this.stopped = true;
    clearTimeout(this.announceTimer);
    this.choker.stop();
    this.stopWeb();
    for (const wire of this.wires) wire.close(reason);
  }

  /** Dials a peer the tracker named. */
  connect(address: PeerAddress): void {
    const key = `${address.ip}:${address.port}`;
    const self =
      address.port === this.peer.port &&
      (address.ip === this.peer.publicAddress || address.ip === this.peer.host);
    if (this.stopped || this.complete || self || this.dialing.has(key) || this.banned.has(key)) return;
    if (this.wires.size >= MAX_PEERS || [...this.wires].some((w) => w.address === key)) return;
    this.dialing.add(key);
    const socket = connect({
      host: address.ip,
      port: address.port,
      ...(this.peer.localAddress ? { localAddress: this.peer.localAddress } : {}),
    });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => undefined); // a refused dial just fails; the wire reports later errors
    socket.once('close', () => this.dialing.delete(key));
    socket.once('connect', () => {
      socket.setTimeout(0);
      const session = this.peer.transcript.connected(socket);
      socket.write(encodeHandshake(this.meta.infoHash, this.peer.peerId));
      session.client(
        handshakeLine({ infoHash: this.meta.infoHash, peerId: this.peer.peerId, extended: true }),
        undefined,
        this.describe(),
      );
      readHandshake(socket).then(
        ({ handshake, rest }) => {
          this.dialing.delete(key);
          session.server(handshakeLine(handshake), undefined, peerData(handshake, session));
          if (!handshake.infoHash.equals(this.meta.infoHash)) {
            return refuse(socket, session, 'the peer answered for another torrent', false);
          }
          this.attach(socket, session, true, handshake, rest);
        },
        (err: Error) => refuse(socket, session, err.message, false),
      );
    });
  }

  /** Takes a connection whose handshakes are done (ours sent, theirs read). */
  attach(socket: Socket, session: Session, outgoing: boolean, handshake: Handshake, rest: Buffer): void {
    const reason = this.refusal(handshake, outgoing);
    if (reason) {
      refuse(socket, session, reason, outgoing);
      return;
    }
    const wire = new PeerWire(socket, session, outgoing, handshake, this.have.size, this);
    this.wires.add(wire);
    // What the peer says of its own side (the wire keeps the flags): BEP 3's consequences here.
    wire.on('choke', () => this.forgetRequests(wire));
    wire.on('unchoke', () => this.fill(wire));
    wire.on('interested', () => this.choker.interested(wire));
    wire.on('uninterested', () => this.choker.uninterested(wire));
    if (wire.extended) {
      wire.send({
        type: 'extended',
        extId: 0,
        payload: encode({ m: {}, p: this.peer.port, reqq: MAX_PEER_REQUESTS, v: 'portlab' }),
      });
    }
    if (this.have.pieces > 0) {
      wire.send({ type: 'bitfield', bits: this.have.bytes });
      wire.said(`bitfield ${this.have.pieces}/${this.have.size} pieces`);
    }
    // A peer that dialled us and speaks BEP 10 is announced once named (see `introduce`).
    if (wire.named) this.emit('peer', wire.address);
    wire.start(rest);
  }

  /** Why a new connection is not kept, if it is not. */
  private refusal(handshake: Handshake, outgoing: boolean): string | undefined {
    const id = handshake.peerId;
    if (id.equals(this.peer.peerId)) return 'this is ourselves';
    if (this.banned.has(id.toString('hex'))) return 'this peer sent bad pieces';
    if (this.stopped || this.wires.size >= MAX_PEERS) return 'too many peers';
    const twin = [...this.wires].find((w) => w.peerId.equals(id));
    if (!twin) return undefined;
    // Both peers dialled each other: both keep the connection dialled by the smaller peer_id.
    const dialler = (out: boolean) => (out ? this.peer.peerId : id);
    if (Buffer.compare(dialler(outgoing), dialler(twin.outgoing)) > 0)
      return 'already connected to this peer';
    twin.close('replaced by a second connection');
    return undefined;
  }

  onUnnamed(wire: PeerWire): void {
    this.introduce(wire, 'no extended handshake first: known by the address of its connection');
  }

  onMessage(wire: PeerWire, message: Message): void {
    switch (message.type) {
      case 'have':
        this.onHave(wire, message.index);
        break;
      case 'bitfield':
        this.onBitfield(wire, message.bits);
        break;
      case 'request':
        this.onRequest(wire, message);
        break;
      case 'piece':
        this.onBlock(wire, message.index, message.begin, message.block);
        break;
      case 'extended':
        this.onExtended(wire, message.extId, message.payload);
        break;
      case 'unknown':
        wire.heard(`message id ${message.id} (${message.payload.length} bytes) ignored: not spoken here`);
        break;
      default:
        // The wire's own messages (keep-alive, choke, unchoke, interested, not interested, cancel)
        // never come here: PeerWire handles them and tells us by its events.
        break;
    }
  }

  onClose(wire: PeerWire, reason: string): void {
    this.wires.delete(wire);
    this.picker.peerGone(wire.has);
    this.forgetRequests(wire);
    // A peer never named was never announced: its departure is no news either.
    wire.heard(
      `peer gone (${reason})`,
      wire.named ? this.data('peer-gone', { peer: wire.address, reason }) : undefined,
    );
    if (wire.named) this.emit('peer-gone', wire.address, reason);
    this.choker.gone(wire);
  }

  private onHave(wire: PeerWire, index: number): void {
    if (index >= this.have.size)
      throw new ProtocolError(`have ${index}: this torrent has ${this.have.size} pieces`);
    wire.heard(`have ${index}`);
    if (wire.has.has(index)) return;
    wire.has.set(index);
    this.picker.peerHas(index);
    this.updateInterest(wire);
  }

  private onBitfield(wire: PeerWire, bits: Buffer): void {
    // BEP 3 sends the bitfield right after the handshake only, but aria2c may send it after some
    // haves: take it as "these pieces too".
    let field: Bitfield;
    try {
      field = Bitfield.fromWire(bits, this.have.size);
    } catch (err) {
      throw new ProtocolError((err as Error).message);
    }
    wire.heard(`bitfield ${field.pieces}/${field.size} pieces`);
    for (let i = 0; i < field.size; i++) {
      if (!field.has(i) || wire.has.has(i)) continue;
      wire.has.set(i);
      this.picker.peerHas(i);
    }
    this.updateInterest(wire);
  }

  private onExtended(wire: PeerWire, extId: number, payload: Buffer): void {
    if (extId !== 0) return; // we announce no extended messages (empty `m`), so none should come
    let handshake: unknown;
    try {
      handshake = decode(payload, EXTENDED_LIMITS);
    } catch (err) {
      throw new ProtocolError(`bad extended handshake: ${(err as Error).message}`);
    }
    const { v, p } = (handshake ?? {}) as { v?: unknown; p?: unknown };
    wire.client = v instanceof Uint8Array ? Buffer.from(v).toString('utf8').slice(0, 64) : undefined;
    // BEP 10 `p`: the TCP port the sender listens on (a peer that dialled us is on another one).
    const port = typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536 ? p : undefined;
    const line = `extended handshake${wire.client ? ` client ${wire.client}` : ''}${port ? `, listens on port ${port}` : ''}`;
    if (wire.named) wire.heard(line);
    else this.introduce(wire, line, port);
  }

  /**
   * Names a peer that dialled us, at its first message: BEP 10 sends the extended handshake first,
   * and its `p` gives the port the peer listens on. Named by that port, the peer is the one others
   * dial and the tracker lists, not a second peer on a temporary port. `line` is the transcript line
   * that names it. A peer we are connected to already (we dialled it) keeps that connection.
   */
  private introduce(wire: PeerWire, line: string, port?: number): void {
    const address = port ? wire.listensOn(port) : wire.address;
    if ([...this.wires].some((w) => w !== wire && w.named && w.address === address)) {
      wire.heard(line);
      wire.close(`already connected to ${address}`);
      return;
    }
    wire.address = address;
    wire.named = true;
    wire.heard(line, this.data('peer', { peer: address }));
    this.emit('peer', address);
  }

  // Downloading

  /** Tells the peer whether we want something it has (BEP 3 "interested"), and asks if so. */
  private updateInterest(wire: PeerWire): void {
    if (this.complete && wire.has.complete) {
      wire.close(Torrent.BOTH_COMPLETE);
      return;
    }
    // A seed wants nothing: no need to look through the pieces at each `have` it hears.
    let wanted = false;
    for (let i = 0; i < this.have.size && !wanted && !this.complete; i++) {
      wanted = wire.has.has(i) && !this.have.has(i);
    }
    if (wanted) wire.interested();
    else wire.uninterested();
    this.refill(wire);
  }

  /**
   * Tops the queue up once a quarter of it came in: requests leave in batches, each one write for
   * us and one wake-up for the sender, rather than one per block.
   */
  private refill(wire: PeerWire): void {
    if (wire.requests.size <= (wire.queueDepth * 3) / 4) this.fill(wire);
  }

  /** Keeps the peer's request queue full. */
  private fill(wire: PeerWire): void {
    if (wire.closed || wire.peerChoking || !wire.amInterested || this.stopped) return;
    // No peer holds more than its share of what is left (shared with every peer that has something
    // for us, even one that has not unchoked us yet), so a small torrent still comes from everyone.
    const useful = [...this.wires].filter((w) => w.amInterested).length;
    const share = Math.ceil(this.left / BLOCK_SIZE / Math.max(1, useful));
    const room = Math.min(wire.queueDepth, share) - wire.requests.size;
    if (room <= 0) return;
    const { blocks, retried } = this.picker.next(wire, wire.has, room);
    for (const index of retried) {
      wire.said(`piece ${index} re-requested`, this.data('re-request', { piece: index, from: wire.address }));
    }
    wire.socket.cork();
    wire.sendHaves();
    for (const block of blocks) {
      wire.requests.set(blockKey(block.index, block.begin), block);
      wire.send({ type: 'request', ...block });
    }
    wire.socket.uncork();
  }

  /** The peer choked us or left: its requests will not be answered (BEP 3), others may take them. */
  private forgetRequests(wire: PeerWire): void {
    for (const ref of wire.requests.values()) this.picker.unrequest(wire, ref);
    wire.requests.clear();
    wire.sendHaves();
    this.picker.release(wire);
    for (const other of this.wires) this.fill(other);
  }

  private onBlock(wire: PeerWire, index: number, begin: number, block: Buffer): void {
    const key = blockKey(index, begin);
    const asked = wire.requests.get(key);
    if (!asked || asked.length !== block.length) return; // cancelled, or not ours to take
    wire.requests.delete(key);
    wire.noteBlock(block.length);
    this.downloaded += block.length;
    const { cancel, complete } = this.picker.received(wire, index, begin, block);
    this.cancel(cancel, key, asked);
    if (complete) this.pieceDone(index, complete.blocks, complete.sources);
    this.refill(wire);
  }

  /** Endgame: the block came, the other peers asked for it are told not to send it. */
  private cancel(others: Source[], key: number, ref: BlockRef): void {
    for (const other of others) {
      // A web seed's request is one HTTP request for the whole piece: it cannot be cancelled.
      if (!(other instanceof PeerWire)) continue;
      other.requests.delete(key);
      other.send({ type: 'cancel', ...ref });
    }
  }

  // Web seeds (BEP 19)

  /** Gives each ready web seed pieces to fetch, up to its requests in flight. */
  private fillWeb(): void {
    for (const seed of this.webSeeds) {
      while (seed.ready && !this.stopped && !this.complete) {
        const index = this.picker.claim(seed);
        if (index === undefined) return;
        void this.fetchFromWeb(seed, index);
      }
    }
  }

  private async fetchFromWeb(seed: WebSeed, index: number): Promise<void> {
    seed.inFlight++;
    const size = pieceSize(this.meta, index);
    try {
      const blocks = await seed.fetchPiece(index * this.meta.pieceLength, size, this.meta.length);
      if (this.stopped) return;
      this.downloaded += size;
      // Block by block, as from a peer: in endgame a peer may have sent some of them first.
      blocks.forEach((block, i) => {
        const ref = { index, begin: i * BLOCK_SIZE, length: block.length };
        const { cancel, complete } = this.picker.received(seed, index, ref.begin, block);
        this.cancel(cancel, blockKey(index, ref.begin), ref);
        if (complete) this.pieceDone(index, complete.blocks, complete.sources);
      });
    } catch (err) {
      if (this.stopped || seed.closed) return; // aborted: the download is over
      const wait = seed.failed(err instanceof WebSeedError ? err.retryAfter : undefined);
      const reason = (err as Error).message;
      seed.heard(
        `piece ${index} from ${seed.address} failed: ${reason}; next try in ${wait} s`,
        this.data('web-seed-failed', { piece: index, from: seed.address, reason, wait }),
      );
      this.emit('web-seed-failed', seed.address, index, reason, wait);
      // The piece goes back to the picker: any peer, or this seed later, may take it.
      this.picker.release(seed);
      for (const wire of this.wires) this.fill(wire);
    } finally {
      seed.inFlight--;
    }
    this.fillWeb();
  }

  private stopWeb(): void {
    clearInterval(this.webTimer);
    for (const seed of this.webSeeds) seed.close();
  }

  private pieceDone(index: number, blocks: Buffer[], sources: Map<Source, number>): void {
    if (!sha1(...blocks).equals(this.meta.pieceHashes[index]!)) {
      this.badPiece(index, sources);
      return;
    }
    try {
      this.storage.write(index, blocks);
    } catch (err) {
      // A full or vanished disk: nothing more can be kept, so this torrent stops here.
      this.emit('warning', `cannot write piece ${index} to ${this.storage.file}: ${(err as Error).message}`);
      this.destroy();
      return;
    }
    this.picker.verified(index);
    this.have.set(index);
    this.missing -= pieceSize(this.meta, index);
    // The source of a piece is the peer that sent most of it (all of it, but in endgame). Bytes are
    // counted for every source that sent some: HTTP bytes and peer bytes add up to the file.
    const [source, bytes] = [...sources].sort((a, b) => b[1] - a[1])[0]!;
    if (source instanceof WebSeed) source.succeeded();
    for (const [from, sent] of sources) this.statsOf(from).bytes += sent;
    this.statsOf(source).pieces++;
    source.heard(
      `piece ${index} from ${source.address}`,
      this.data('piece', {
        piece: index,
        from: source.address,
        bytes,
        have: this.have.pieces,
        pieces: this.have.size,
      }),
    );
    this.emit('piece', index, source.address);
    for (const wire of this.wires) {
      wire.have(index);
      if (wire.amInterested) this.updateInterest(wire);
    }
    if (this.complete) void this.finish();
  }

  /** The line of the sources table for `source`, made at its first bytes. */
  private statsOf(source: Source): SourceStats {
    let stats = this.sources.get(source.address);
    if (!stats) {
      const client =
        source instanceof WebSeed ? source.client : (source.client ?? describePeerId(source.peerId));
      stats = { address: source.address, client, pieces: 0, bytes: 0 };
      this.sources.set(source.address, stats);
    }
    return stats;
  }

  private badPiece(index: number, sources: Map<Source, number>): void {
    for (const source of sources.keys()) {
      source.heard(
        `bad piece ${index} from ${source.address} (SHA-1 mismatch)`,
        this.data('bad-piece', { piece: index, from: source.address }),
      );
      // A web seed that sent a bad copy waits, as after a failed request; the picker keeps it away
      // from this piece.
      if (source instanceof WebSeed) {
        source.failed();
        continue;
      }
      source.strikes++;
      if (source.strikes >= MAX_STRIKES) {
        this.banned.add(source.address);
        this.banned.add(source.peerId.toString('hex'));
        source.close(`sent ${source.strikes} bad pieces`);
      }
    }
    this.emit(
      'bad-piece',
      index,
      [...sources.keys()].map((s) => s.address),
    );
    this.picker.failed(index);
    for (const wire of this.wires) this.fill(wire);
  }

  private async finish(): Promise<void> {
    this.stopWeb();
    this.emit('done');
    for (const wire of this.wires) {
      if (wire.has.complete) wire.close(Torrent.BOTH_COMPLETE);
      else wire.sendHaves();
    }
    await this.announce('completed');
  }

  // Uploading

  private onRequest(wire: PeerWire, ref: BlockRef): void {
    const { index, begin, length } = ref;
    if (
      index >= this.have.size ||
      length === 0 ||
      length > BLOCK_SIZE ||
      begin + length > pieceSize(this.meta, index)
    ) {
      throw new ProtocolError(
        `request ${index}:${begin}+${length} is outside the torrent or over ${BLOCK_SIZE} bytes`,
      );
    }
    if (wire.uploads.length >= MAX_PEER_REQUESTS) {
      throw new ProtocolError(`more than ${MAX_PEER_REQUESTS} requests waiting (BEP 10 reqq)`);
    }
    this.choker.request(wire, ref);
  }

  // The tracker

  private async announce(event?: 'started' | 'completed' | 'stopped'): Promise<void> {
    clearTimeout(this.announceTimer);
    let interval = 30;
    try {
      const answer = await announce(this.trackerUrl, {
        infoHash: this.meta.infoHash,
        peerId: this.peer.peerId,
        port: this.peer.port,
        ...(this.peer.publicAddress ? { ip: this.peer.publicAddress } : {}),
        ...(this.peer.localAddress ? { localAddress: this.peer.localAddress } : {}),
        uploaded: this.uploaded,
        downloaded: this.downloaded,
        left: this.left,
        ...(event ? { event } : {}),
        numwant: this.complete ? 0 : 50,
        ...(this.peer.account ? { user: this.peer.account } : {}),
      });
      interval = answer.interval;
      this.lastAnnounce = { peers: answer.peers.length };
      for (const address of answer.peers) this.connect(address);
    } catch (err) {
      this.lastAnnounce = { error: (err as Error).message };
      this.emit('warning', (err as Error).message);
    }
    if (this.stopped || event === 'stopped') return;
    // With nobody to download from, ask again soon rather than after a whole interval.
    const wait = this.wires.size === 0 && !this.complete ? Math.min(interval, 3) : interval;
    this.announceTimer = setTimeout(() => void this.announce(), wait * 1000).unref();
  }
}

/** The data of the line where a peer named itself (its handshake): a peer of this torrent joins. */
export function peerData(handshake: Handshake, session: Session): LineData {
  return { event: 'peer', torrent: handshake.infoHash.toString('hex'), peer: session.peer };
}

function refuse(socket: Socket, session: Session, reason: string, outgoing: boolean): void {
  const line = `${reason}; closing`;
  if (outgoing) session.client(line);
  else session.server(line);
  socket.destroy();
  session.close();
}
