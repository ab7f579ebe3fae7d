/**
 * A chain node: listens on 18444 (regtest's P2P port), dials neighbours, and keeps its chain in step
 * with theirs the way Bitcoin Core does (headers-first sync, inv/getdata relay). No server: every
 * node is the same program and any of them can go away.
 *
 *   on connect:      version → ← version, verack → ← verack      (handshake, BIP 14 user agent)
 *   then:            getheaders(locator) → ← headers             (what do you have after this?)
 *                    getdata(blocks)     → ← block …             (send me these)
 *   new block/tx:    inv → ← getdata, then block/tx              (relay, each hop checks first)
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Session, Transcript } from '@portlab/transcript';
import { Block, Transaction } from 'bitcoinjs-lib';
import type { BlockEntry, Chain } from '../chain.js';
import { ConsensusError } from '../validate.js';
import {
  decodeAddr,
  decodeGetHeaders,
  decodeHeaders,
  decodeInv,
  decodeVersion,
  encodeAddr,
  encodeGetHeaders,
  encodeHeaders,
  encodeInv,
  encodeVersion,
  hashOfId,
  INV_BLOCK,
  INV_TX,
  type InvItem,
  idOfHash,
  MAX_HEADERS,
  type NetAddr,
  PROTOCOL_VERSION,
  ProtocolError,
} from './messages.js';
import { Peer, type PeerHandler } from './peer.js';

export const USER_AGENT = '/portlab-chain:0.1.0/';
const MAX_PEERS = 32;
/**
 * Connections we accept from one address: a student's machine runs a node or a few, and must not
 * take every slot of a classmate's node (Bitcoin Core spreads its inbound slots over netgroups).
 */
export const MAX_PEERS_PER_ADDRESS = 8;
/**
 * Blocks we asked one peer for and still wait for. A headers message brings at most MAX_HEADERS;
 * an inv of 50,000 made-up block hashes must not grow our memory for as long as the peer stays.
 */
export const MAX_BLOCKS_ASKED = 2 * MAX_HEADERS;
/** Addresses remembered from addr messages: enough for a class, bounded against a flood. */
const MAX_KNOWN = 1000;

export interface NodeOptions {
  chain: Chain;
  /** The address we listen on (the lab's host) and announce. */
  host?: string;
  port?: number;
  transcript?: Transcript;
  sessionOf?: (socket: Socket, outgoing: boolean) => Session | undefined;
  /** Dial addresses peers tell us about (addr), up to this many outgoing connections. */
  autoConnect?: number;
  /** Milliseconds a peer has to finish the version handshake (default HANDSHAKE_TIMEOUT_MS, 60 s). */
  handshakeTimeoutMs?: number;
  /** Connections at once accepted from one address (default MAX_PEERS_PER_ADDRESS; config chain). */
  maxPeersPerAddress?: number;
}

export interface PeerInfo {
  address: string;
  listen: string;
  outgoing: boolean;
  userAgent: string;
  startHeight: number;
  score: number;
}

/** One block of a neighbour's chain (ChainNode.peerChains). */
export interface PeerBlock {
  height: number | null;
  id: string;
  prev: string;
  nonce: number;
  /** Why we refused it (or its ancestor): drawn in red. */
  refused?: string;
  /** Whether it is on our own best chain too. */
  ours: boolean;
}

export interface PeerChain {
  address: string;
  listen: string;
  userAgent: string;
  tip: string | null;
  blocks: PeerBlock[];
  /** Set when we dropped this peer: why (its chain stays shown, refused blocks in red). */
  dropped?: string;
}

export class ChainNode extends EventEmitter implements PeerHandler {
  readonly chain: Chain;
  readonly server: Server;
  readonly peers = new Set<Peer>();
  /** Addresses heard of (addr messages, the tracker, `connect`): host:port. */
  readonly known = new Set<string>();
  /** Peers disconnected for misbehaviour, with why (shown by the API and dashboard). */
  readonly disconnected: { address: string; reason: string; at: number }[] = [];
  /** The chains of the last peers dropped for misbehaviour (at most 8), as they showed them. */
  private readonly droppedChains: PeerChain[] = [];
  private readonly nonce = randomBytes(8);
  private readonly host: string;
  port: number;

  constructor(private readonly opts: NodeOptions) {
    super();
    this.chain = opts.chain;
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.server = createServer((socket) => {
      const reason = this.refusal(socket.remoteAddress);
      if (!reason) {
        this.attach(socket, false);
        return;
      }
      const session = this.session(socket, false);
      session?.server(`! ${reason}; closing`);
      session?.close();
      socket.destroy();
    });
    this.chain.on('tip', (tip: BlockEntry) => this.announce([{ type: INV_BLOCK, hash: hashOfId(tip.id) }]));
  }

  async listen(port = this.port, host = this.host): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    return this.port;
  }

  /** Dials a neighbour; resolves once the handshake is done (or rejects if it fails). */
  connect(host: string, port: number): Promise<Peer> {
    const key = `${host}:${port}`;
    this.known.add(key);
    const existing = [...this.peers].find(
      (p) => p.address === key || `${p.socket.remoteAddress}:${p.listenPort}` === key,
    );
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const peer = this.attach(socket, true);
        const done = (p: Peer) => {
          if (p !== peer) return;
          this.off('ready', done);
          resolve(peer);
        };
        this.on('ready', done);
        socket.once('close', () => {
          this.off('ready', done);
          reject(new Error(`${key}: ${peer.closeReason || 'closed during the handshake'}`));
        });
      });
    });
  }

  /** Why a connection from `from` is not taken, if it is not. */
  private refusal(from: string | undefined): string | undefined {
    if (this.peers.size >= MAX_PEERS) return `too many peers (${MAX_PEERS})`;
    const fromThere = [...this.peers].filter((p) => !p.outgoing && p.socket.remoteAddress === from);
    const max = this.opts.maxPeersPerAddress ?? MAX_PEERS_PER_ADDRESS;
    if (fromThere.length >= max) return `too many connections from ${from} (${max})`;
    return undefined;
  }

  private session(socket: Socket, outgoing: boolean): Session | undefined {
    return (
      this.opts.sessionOf?.(socket, outgoing) ??
      (this.opts.transcript
        ? outgoing
          ? this.opts.transcript.connected(socket)
          : this.opts.transcript.accepted(socket)
        : undefined)
    );
  }

  private attach(socket: Socket, outgoing: boolean): Peer {
    const session = this.session(socket, outgoing);
    const peer = new Peer(socket, session, outgoing, this, this.opts.handshakeTimeoutMs);
    this.peers.add(peer);
    if (outgoing) this.sendVersion(peer);
    return peer;
  }

  private sendVersion(peer: Peer): void {
    peer.handshake.sentVersion = true;
    peer.send(
      'version',
      encodeVersion({
        version: PROTOCOL_VERSION,
        services: 1n, // NODE_NETWORK: we serve the whole chain
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        recv: {
          services: 1n,
          host: peer.socket.remoteAddress ?? '0.0.0.0',
          port: peer.socket.remotePort ?? 0,
        },
        from: { services: 1n, host: this.host, port: this.port },
        nonce: this.nonce,
        userAgent: USER_AGENT,
        startHeight: this.chain.height,
        relay: true,
      }),
    );
  }

  closed(peer: Peer, reason: string): void {
    this.peers.delete(peer);
    if (
      reason.startsWith('misbehaving') ||
      reason.startsWith('wrong magic') ||
      reason.startsWith('oversized')
    ) {
      this.disconnected.push({ address: peer.address, reason, at: Date.now() });
      if (this.disconnected.length > 50) this.disconnected.shift();
      // Its chain stays on the dashboard a while, red where we refused it, with why it was dropped.
      if (peer.tip) {
        this.droppedChains.push({ ...this.chainOf(peer, 12), dropped: reason });
        if (this.droppedChains.length > 8) this.droppedChains.shift();
      }
    }
    this.emit('peer-closed', peer, reason);
  }

  message(peer: Peer, command: string, payload: Buffer): void {
    if (!peer.handshake.gotVersion && command !== 'version') {
      peer.misbehave(10, `${command} before version`);
      return;
    }
    switch (command) {
      case 'version':
        this.onVersion(peer, payload);
        return;
      case 'verack':
        peer.handshake.gotVerack = true;
        if (peer.ready) this.onReady(peer);
        return;
      case 'ping':
        peer.send('pong', payload.subarray(0, 8));
        return;
      case 'pong':
        return;
      case 'getheaders':
        this.onGetHeaders(peer, payload);
        return;
      case 'headers':
        this.onHeaders(peer, payload);
        return;
      case 'inv':
        this.onInv(peer, decodeInv(payload));
        return;
      case 'getdata':
        this.onGetData(peer, decodeInv(payload));
        return;
      case 'block':
        this.onBlock(peer, payload);
        return;
      case 'tx':
        this.onTx(peer, payload);
        return;
      case 'getaddr':
        peer.send('addr', encodeAddr(this.addresses()));
        return;
      case 'addr':
        this.onAddr(decodeAddr(payload));
        return;
      default:
        // Unknown commands are ignored, as Bitcoin Core does (sendheaders, feefilter, …).
        return;
    }
  }

  private onVersion(peer: Peer, payload: Buffer): void {
    if (peer.handshake.gotVersion) {
      peer.misbehave(1, 'duplicate version');
      return;
    }
    const v = decodeVersion(payload);
    if (v.nonce.equals(this.nonce)) {
      peer.close('connected to ourselves');
      return;
    }
    peer.handshake.gotVersion = true;
    peer.startHeight = v.startHeight;
    peer.userAgent = v.userAgent;
    peer.listenPort = v.from.port;
    if (!peer.handshake.sentVersion) this.sendVersion(peer);
    peer.send('verack');
    if (peer.ready) this.onReady(peer);
  }

  private onReady(peer: Peer): void {
    if (peer.outgoing) peer.send('getaddr');
    if (peer.listenPort && peer.socket.remoteAddress)
      this.known.add(`${peer.socket.remoteAddress}:${peer.listenPort}`);
    this.askHeaders(peer);
    this.emit('ready', peer);
  }

  private askHeaders(peer: Peer, from?: string[]): void {
    peer.send('getheaders', encodeGetHeaders((from ?? this.chain.locator()).map(hashOfId)));
  }

  private onGetHeaders(peer: Peer, payload: Buffer): void {
    const { locator, stop } = decodeGetHeaders(payload);
    // A locator starts with the asker's own tip (Bitcoin Core's CChain::GetLocator).
    if (locator[0]) this.noteTip(peer, idOfHash(locator[0]));
    const entries = this.chain.headersAfter(locator.map(idOfHash), idOfHash(stop), MAX_HEADERS);
    peer.send('headers', encodeHeaders(entries.map((e) => e.raw.subarray(0, 80))));
  }

  private onHeaders(peer: Peer, payload: Buffer): void {
    const headers = decodeHeaders(payload);
    const want: InvItem[] = [];
    let prev: string | undefined;
    for (const raw of headers) {
      const header = Block.fromBuffer(raw);
      const id = header.getId();
      const parent = idOfHash(header.prevHash as Uint8Array);
      if (prev !== undefined && parent !== prev) {
        peer.misbehave(20, 'headers do not form a chain');
        return;
      }
      prev = id;
      peer.saw({ id, prev: parent, nonce: header.nonce });
      // A header must carry its own proof of work: checking it costs one hash, forging it 2^bits.
      if (header.bits !== this.chain.params.bits || !header.checkProofOfWork()) {
        peer.misbehave(50, `header ${id}: invalid proof of work`);
        return;
      }
      if (this.chain.invalid.has(id)) {
        peer.misbehave(50, `header of invalid block ${id}`);
        return;
      }
      if (!this.chain.has(id) && !peer.asked.has(id) && peer.asked.size + want.length < MAX_BLOCKS_ASKED)
        want.push({ type: INV_BLOCK, hash: hashOfId(id) });
    }
    for (const w of want) peer.asked.add(idOfHash(w.hash));
    for (let i = 0; i < want.length; i += 500) peer.send('getdata', encodeInv(want.slice(i, i + 500)));
    if (headers.length === MAX_HEADERS && prev) this.askHeaders(peer, [prev]);
  }

  private onInv(peer: Peer, items: InvItem[]): void {
    const lastBlock = items.filter((it) => it.type === INV_BLOCK).at(-1);
    if (lastBlock) this.noteTip(peer, idOfHash(lastBlock.hash));
    let room = MAX_BLOCKS_ASKED - peer.asked.size;
    const want = items.filter((it) => {
      const id = idOfHash(it.hash);
      if (
        it.type === INV_BLOCK &&
        room > 0 &&
        !this.chain.has(id) &&
        !this.chain.invalid.has(id) &&
        !peer.asked.has(id)
      ) {
        room--;
        return true;
      }
      if (it.type === INV_TX) return !this.chain.mempool.txs.has(id);
      return false;
    });
    for (const w of want) if (w.type === INV_BLOCK) peer.asked.add(idOfHash(w.hash));
    if (want.length) peer.send('getdata', encodeInv(want));
  }

  /**
   * Sends what the peer asks for, in order. Once MAX_SEND_BUFFER bytes wait for it to read, the rest
   * waits until it has (Peer.hold), and so do its next messages.
   */
  private onGetData(peer: Peer, items: InvItem[]): void {
    const missing: InvItem[] = [];
    for (const [i, it] of items.entries()) {
      if (peer.congested) {
        peer.hold(() => this.onGetData(peer, items.slice(i)));
        break;
      }
      const id = idOfHash(it.hash);
      if (it.type === INV_BLOCK) {
        const entry = this.chain.entries.get(id);
        // Our stored copy, as it is: a tampered block goes out tampered, and the peer refuses it.
        if (entry) peer.send('block', entry.raw);
        else missing.push(it);
      } else if (it.type === INV_TX) {
        const p = this.chain.mempool.txs.get(id);
        if (p) peer.send('tx', Buffer.from(p.tx.toBuffer()));
        else missing.push(it);
      }
    }
    if (missing.length) peer.send('notfound', encodeInv(missing));
  }

  private onBlock(peer: Peer, payload: Buffer): void {
    const result = this.chain.accept(payload);
    peer.asked.delete(result.id);
    if (payload.length >= 80) {
      const header = Block.fromBuffer(payload.subarray(0, 80));
      peer.saw({
        id: result.id,
        prev: idOfHash(header.prevHash as Uint8Array),
        nonce: header.nonce,
        ...(result.status === 'invalid' ? { refused: result.reason ?? 'invalid' } : {}),
      });
    }
    this.emit('block-result', peer, result);
    if (result.status === 'invalid') {
      // Bitcoin Core scores an invalid block 100 at once; here two, so a student sees the count.
      peer.misbehave(50, `invalid block ${result.id}: ${result.reason}`);
    } else if (result.status === 'orphan') {
      // We lack its parent: ask this peer what comes after our tip.
      this.askHeaders(peer);
    }
  }

  private onTx(peer: Peer, payload: Buffer): void {
    let tx: Transaction;
    try {
      tx = Transaction.fromBuffer(payload);
    } catch {
      throw new ProtocolError('malformed tx');
    }
    try {
      const p = this.chain.acceptTx(tx);
      this.announce([{ type: INV_TX, hash: hashOfId(p.id) }], peer);
    } catch (err) {
      if (!(err instanceof ConsensusError)) throw err;
      // Seeing a double spend or a transaction we have is normal on a network; a bad one is not.
      if (!/double spend|already in the mempool|missing or already spent/.test(err.message)) {
        peer.misbehave(20, `invalid tx ${tx.getId()}: ${err.message}`);
      }
    }
  }

  private onAddr(addrs: NetAddr[]): void {
    for (const a of addrs.slice(0, 100)) {
      const key = `${a.host}:${a.port}`;
      if (a.port === 0 || this.known.has(key) || (a.port === this.port && a.host === this.host)) continue;
      if (this.known.size >= MAX_KNOWN) break;
      this.known.add(key);
      if (this.opts.autoConnect && [...this.peers].filter((p) => p.outgoing).length < this.opts.autoConnect) {
        this.connect(a.host, a.port).catch(() => undefined);
      }
    }
  }

  private addresses(): NetAddr[] {
    return [...this.known].slice(0, 1000).map((k) => {
      const i = k.lastIndexOf(':');
      return { services: 1n, host: k.slice(0, i), port: Number(k.slice(i + 1)) };
    });
  }

  /** Tells every ready peer (but `except`) about new blocks or transactions. */
  announce(items: InvItem[], except?: Peer): void {
    const payload = encodeInv(items);
    for (const p of this.peers) if (p !== except && p.ready) p.send('inv', payload);
  }

  /** Sends a transaction of ours into the network (after the chain accepted it). */
  broadcastTx(tx: Transaction): void {
    this.announce([{ type: INV_TX, hash: Buffer.from(tx.getHash()) }]);
  }

  /** The peer's tip is `id`: noted with its header when we know the block. */
  private noteTip(peer: Peer, id: string): void {
    const e = this.chain.entries.get(id);
    if (e) peer.saw({ id, prev: e.prev, nonce: e.block.nonce });
    else peer.tip = id;
  }

  /**
   * Each neighbour's chain as it showed it to us, newest first, at most `count` blocks back from its
   * tip: from the headers it sent, then from our own blocks for the part we share. A block we refused
   * and every block built on it are `refused` (the dashboard's red cards). Public data only: headers.
   * The peers dropped for misbehaviour last come after, with `dropped`.
   */
  peerChains(count = 12): PeerChain[] {
    return [
      ...[...this.peers].filter((p) => p.ready).map((p) => this.chainOf(p, count)),
      ...this.droppedChains,
    ];
  }

  private chainOf(p: Peer, count: number): PeerChain {
    const blocks: PeerBlock[] = [];
    let id = p.tip;
    while (id && blocks.length < count) {
      const s = p.seen.get(id);
      const e = this.chain.entries.get(id);
      if (!s && !e) break;
      const prev = s?.prev ?? (e as BlockEntry).prev;
      const refused = s?.refused ?? this.chain.invalid.get(id);
      blocks.push({
        height: e?.height ?? null,
        id,
        prev,
        nonce: s?.nonce ?? (e as BlockEntry).block.nonce,
        ...(refused ? { refused } : {}),
        ours: this.chain.best[e?.height ?? -1]?.id === id,
      });
      if (e?.height === 0) break;
      id = prev;
    }
    // Heights of blocks we do not hold: one more than their parent's.
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i] as PeerBlock;
      if (b.height !== null) continue;
      const parentHeight = blocks[i + 1]?.height ?? this.chain.entries.get(b.prev)?.height;
      b.height = parentHeight === undefined || parentHeight === null ? null : parentHeight + 1;
    }
    // Built on a refused block: refused too, as every node does (its parent is invalid).
    for (let i = blocks.length - 2; i >= 0; i--) {
      const b = blocks[i] as PeerBlock;
      const parent = blocks[i + 1] as PeerBlock;
      if (!b.refused && parent.refused) b.refused = `builds on refused block ${parent.id.slice(0, 16)}…`;
    }
    return {
      address: p.address,
      listen: `${p.socket.remoteAddress}:${p.listenPort}`,
      userAgent: p.userAgent,
      tip: p.tip ?? null,
      blocks,
    };
  }

  peerInfo(): PeerInfo[] {
    return [...this.peers].map((p) => ({
      address: p.address,
      listen: `${p.socket.remoteAddress}:${p.listenPort}`,
      outgoing: p.outgoing,
      userAgent: p.userAgent,
      startHeight: p.startHeight,
      score: p.score,
    }));
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.close('node stopped');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
