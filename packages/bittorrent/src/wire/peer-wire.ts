/**
 * One connection to another peer, after the handshake: the four state flags of BEP 3 (choked and
 * interested, on each side), what the peer has, and the messages each way. Every peer is both
 * client and server, so a wire is the same object whoever dialled; only the transcript direction
 * differs (C: the side that connected).
 *
 * The wire owns its four flags, as webtorrent's bittorrent-protocol Wire does: ours change by its
 * methods (`choke()` sets `amChoking` and sends the message, once), the peer's by the messages it
 * reads, each followed by an event ('choke', 'unchoke', 'interested', 'uninterested') for the
 * torrent. The other messages go to the WireHandler, which knows the torrent.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { LineData, Session } from '@portlab/transcript';
import { Bitfield } from '../bitfield.js';
import { describePeerId, type Handshake, HandshakeError, HandshakeReader } from './handshake.js';
import { type BlockRef, encodeParts, type Message, MessageReader, ProtocolError } from './messages.js';

/** Requests in flight per peer: enough for REQUEST_QUEUE_SECONDS of what it has been sending. */
const REQUEST_QUEUE_SECONDS = 1;
const MIN_QUEUE = 16;
/** Before the first measure: a peer on a fast link should not crawl until it has shown its speed. */
const START_QUEUE = 64;
/**
 * 256 blocks (4 MiB) in flight: at loopback speed that is ~10 ms of data, enough for the sender to
 * keep sending while our process waits its turn for a CPU.
 */
const MAX_QUEUE = 256;
/** The speed is measured over windows this long: with longer ones, a fast transfer is half over before its queue grows. */
const RATE_WINDOW_MS = 100;

const SEND_BUFFER = 1024 * 1024;

/** BEP 3: keep-alives are "generally sent once every two minutes"; peers idle much longer are gone. */
const KEEP_ALIVE_MS = 60_000;
const IDLE_TIMEOUT_MS = 180_000;

export interface WireHandler {
  /**
   * A peer that dialled us, not yet named (see `named`), sent something other than its BEP 10
   * handshake first: the handler names it by its connection's address, or closes a duplicate.
   */
  onUnnamed(wire: PeerWire): void;
  /** The messages the wire does not handle itself: have, bitfield, request, piece, extended, unknown. */
  onMessage(wire: PeerWire, message: Message): void;
  onClose(wire: PeerWire, reason: string): void;
}

/** What the peer told us about its side (BEP 3), after the wire's flags changed. */
type WireEvents = {
  choke: [];
  unchoke: [];
  interested: [];
  uninterested: [];
};

export class PeerWire extends EventEmitter<WireEvents> {
  private choking = true;
  private interesting = false;
  private choked = true;
  private wanted = false;
  private chokeChanged = Date.now();
  /** What the peer has: from its bitfield, then each have. */
  readonly has: Bitfield;
  /** Blocks we asked this peer for and still wait for, by `blockKey`. */
  readonly requests = new Map<number, BlockRef>();
  /** Pieces we got whose `have` waits for our next requests to this peer (see `have`). */
  private haves: number[] = [];
  /** Blocks the peer asked us for, in order. */
  uploads: BlockRef[] = [];
  /** Bad pieces this peer sent. */
  strikes = 0;
  /**
   * "ip:port" people know this peer by: the port it listens on. A peer we dialled is known by the
   * port we dialled; one that dialled us comes from a temporary port, so it is renamed by the port
   * its BEP 10 handshake gives (`p`, see `listensOn`), if it gives one. The socket's own address is
   * `session.peer`.
   */
  address: string;
  /** Whether `address` is settled: not yet while the BEP 10 handshake of a peer that dialled us may come. */
  named: boolean;
  readonly peerId: Buffer;
  readonly extended: boolean;
  closed = false;
  /** Bytes per second of blocks this peer sent us lately. */
  private rate = 0;
  private windowStart = performance.now();
  private windowBytes = 0;
  /** The client name from the BEP 10 handshake (`v`), when the peer sent one. */
  client: string | undefined;
  private readonly reader: MessageReader;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    readonly session: Session,
    readonly outgoing: boolean,
    handshake: Handshake,
    pieceCount: number,
    private readonly handler: WireHandler,
  ) {
    super();
    this.address = session.peer;
    this.named = outgoing || !handshake.extended;
    this.peerId = handshake.peerId;
    this.extended = handshake.extended;
    this.has = new Bitfield(pieceCount);
    // The largest message is a piece of one block, or the bitfield; BEP 10 handshakes are small.
    this.reader = new MessageReader(Math.max(9 + 16 * 1024, 1 + this.has.bytes.length, 64 * 1024));
    // Requests are small messages the other side waits for: send them at once (no Nagle delay).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close('connection closed'));
    socket.on('error', (err) => this.close(err.message));
    socket.setTimeout(IDLE_TIMEOUT_MS, () => this.close(`silent for ${IDLE_TIMEOUT_MS / 1000} s`));
    this.keepAlive = setInterval(() => this.send({ type: 'keep-alive' }), KEEP_ALIVE_MS).unref();
  }

  /** We choke the peer: we answer none of its requests (BEP 3). Every connection starts so. */
  get amChoking(): boolean {
    return this.choking;
  }

  /** We want pieces the peer has. */
  get amInterested(): boolean {
    return this.interesting;
  }

  /** The peer chokes us: it will not answer our requests. */
  get peerChoking(): boolean {
    return this.choked;
  }

  /** The peer wants pieces we have. */
  get peerInterested(): boolean {
    return this.wanted;
  }

  /** The time we last choked or unchoked this peer (for round-robin unchoking, see choker.ts). */
  get chokeChangedAt(): number {
    return this.chokeChanged;
  }

  /** Stops answering the peer's requests, and forgets those it sent (BEP 3: a choke discards them). */
  choke(): void {
    if (this.choking) return;
    this.setChoking(true);
    this.uploads = [];
  }

  /** Lets the peer's requests through. */
  unchoke(): void {
    if (this.choking) this.setChoking(false);
  }

  /** Tells the peer we want something it has. */
  interested(): void {
    if (!this.interesting) this.setInterested(true);
  }

  /** Tells the peer it has nothing more we want. */
  uninterested(): void {
    if (this.interesting) this.setInterested(false);
  }

  private setChoking(choke: boolean): void {
    this.choking = choke;
    this.chokeChanged = Date.now();
    this.send({ type: choke ? 'choke' : 'unchoke' });
    this.said(choke ? 'choke' : 'unchoke');
  }

  private setInterested(interested: boolean): void {
    this.interesting = interested;
    this.send({ type: interested ? 'interested' : 'notInterested' });
    this.said(interested ? 'interested' : 'not interested');
  }

  /** The address this peer listens on, from its BEP 10 `p`: its IP with that port. */
  listensOn(port: number): string {
    return `${this.session.peer.slice(0, this.session.peer.lastIndexOf(':'))}:${port}`;
  }

  /** Counts a block received, to size the request queue to this peer's speed. */
  noteBlock(bytes: number): void {
    this.windowBytes += bytes;
    const elapsed = performance.now() - this.windowStart;
    if (elapsed < RATE_WINDOW_MS) return;
    this.rate = (this.windowBytes * 1000) / elapsed;
    this.windowStart += elapsed;
    this.windowBytes = 0;
  }

  /**
   * How many block requests to keep in flight: a fast peer needs a long queue so its link never
   * waits for our next request; a slow one a short queue, so it does not hold pieces others could send.
   */
  get queueDepth(): number {
    if (this.rate === 0) return START_QUEUE;
    const depth = Math.ceil((this.rate * REQUEST_QUEUE_SECONDS) / (16 * 1024));
    return Math.min(MAX_QUEUE, Math.max(MIN_QUEUE, depth));
  }

  /** Starts reading, with the bytes that came in behind the handshake. */
  start(rest: Buffer): void {
    if (rest.length) this.receive(rest);
    this.socket.resume();
  }

  /**
   * Queues a message; false when more than SEND_BUFFER bytes wait to be sent (then wait for
   * `drained`). Node's own threshold is 16 KiB, one block: waiting on it after each block would
   * leave the link idle between blocks. `sent` is called once the message has left (or the
   * connection is gone): until then the socket holds its bytes, not a copy of them.
   */
  send(message: Message, sent?: () => void): boolean {
    if (this.closed) {
      sent?.();
      return false;
    }
    // Corked, a piece's header and block leave in one write (with no Nagle, apart they would be
    // two TCP segments, the first of 13 bytes).
    this.socket.cork();
    const parts = encodeParts(message);
    const last = parts.pop()!;
    for (const part of parts) this.socket.write(part);
    this.socket.write(last, sent);
    this.socket.uncork();
    return this.socket.writableLength < SEND_BUFFER;
  }

  /**
   * Tells the peer we have a piece. A seed (it has every piece) cannot want it: while we wait for
   * blocks from it, its `have`s wait for our next batch of requests (a quarter of the queue later),
   * one write and one wake-up of the seed for them all rather than one per piece. Any other peer
   * hears at once, since it may want the piece from us.
   */
  have(index: number): void {
    this.haves.push(index);
    if (this.requests.size === 0 || !this.has.complete) this.sendHaves();
  }

  sendHaves(): void {
    for (const index of this.haves) this.send({ type: 'have', index });
    this.haves = [];
  }

  drained(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.socket.writableLength < SEND_BUFFER) return resolve();
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /**
   * A line we said on this connection (C: when we dialled, S: when the peer did), with its
   * machine-readable `data` when the dashboard needs it (see Torrent.data).
   */
  said(line: string, data?: LineData): void {
    if (this.outgoing) this.session.client(line, undefined, data);
    else this.session.server(line, undefined, data);
  }

  /** A line the peer said. */
  heard(line: string, data?: LineData): void {
    if (this.outgoing) this.session.server(line, undefined, data);
    else this.session.client(line, undefined, data);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.socket.destroy();
    this.handler.onClose(this, reason);
    this.session.close();
  }

  /**
   * Handles the messages of one received chunk. What they make us send (the blocks a run of
   * requests asks for, the requests that follow a run of blocks) is corked until the chunk is done,
   * and leaves in one write: one system call for many messages.
   */
  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.socket.cork();
    try {
      for (const message of this.reader.push(chunk)) {
        if (this.closed) return;
        if (!this.named && !(message.type === 'extended' && message.extId === 0)) {
          this.handler.onUnnamed(this);
          if (this.closed) return;
        }
        if (!this.handle(message)) this.handler.onMessage(this, message);
      }
    } catch (err) {
      // A broken message, or one the torrent refused (a bad index, a second bitfield...).
      if (!(err instanceof ProtocolError)) throw err;
      this.heard(`protocol error: ${err.message}; closing this connection`);
      this.close(err.message);
    } finally {
      this.socket.uncork();
    }
  }

  /** The messages about the wire's own state: true when `message` was one of them. */
  private handle(message: Message): boolean {
    switch (message.type) {
      case 'keep-alive':
        return true;
      case 'choke':
        this.heard('choke');
        this.choked = true;
        this.emit('choke');
        return true;
      case 'unchoke':
        this.heard('unchoke');
        this.choked = false;
        this.emit('unchoke');
        return true;
      case 'interested':
        this.heard('interested');
        this.wanted = true;
        this.emit('interested');
        return true;
      case 'notInterested':
        this.heard('not interested');
        this.wanted = false;
        this.emit('uninterested');
        return true;
      case 'cancel':
        this.uploads = this.uploads.filter((r) => r.index !== message.index || r.begin !== message.begin);
        return true;
      default:
        return false;
    }
  }
}

export interface Dialled {
  handshake: Handshake;
  rest: Buffer;
}

/**
 * Reads the peer's handshake. Rejects at the first byte that cannot start one (an encrypted MSE
 * handshake, a web browser, random bytes), and after `timeoutMs` of waiting.
 */
export function readHandshake(socket: Socket, timeoutMs = 10_000): Promise<Dialled> {
  const reader = new HandshakeReader();
  return new Promise((resolve, reject) => {
    const finish = (error: Error | undefined, value?: Dialled) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', finish);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      try {
        const done = reader.push(chunk);
        if (done) finish(undefined, done);
      } catch (err) {
        finish(err as Error);
      }
    };
    const onClose = () => finish(new HandshakeError('closed before the handshake'));
    const timer = setTimeout(
      () => finish(new HandshakeError(`no handshake within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', finish);
  });
}

export function handshakeLine(handshake: Handshake): string {
  return `handshake peer_id ${describePeerId(handshake.peerId)} info_hash ${handshake.infoHash.toString('hex')}`;
}
