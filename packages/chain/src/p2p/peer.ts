/**
 * One connection to another node: framing, the transcript line of every message, the misbehaviour
 * score. What the messages mean is the node's business (node.ts).
 */
import type { Socket } from 'node:net';
import type { Session } from '@portlab/transcript';
import { Block, Transaction } from 'bitcoinjs-lib';
import {
  decodeGetHeaders,
  decodeHeaders,
  decodeInv,
  decodeVersion,
  FrameReader,
  frame,
  INV_BLOCK,
  INV_TX,
  type InvItem,
  idOfHash,
  ProtocolError,
} from './messages.js';

/** Bitcoin Core disconnects (and bans) a peer whose score reaches 100 (net_processing.cpp, Misbehaving). */
export const BAN_SCORE = 100;
const IDLE_MS = 20 * 60 * 1000;
/**
 * A peer that has not finished the version handshake after this long is dropped, as by Bitcoin
 * Core (DEFAULT_PEER_CONNECT_TIMEOUT, 60 s): a silent connection must not hold a slot for 20 minutes.
 */
export const HANDSHAKE_TIMEOUT_MS = 60_000;
/**
 * Bytes waiting to be sent to a peer past which we stop serving it, as Bitcoin Core does past
 * -maxsendbuffer (DEFAULT_MAXSENDBUFFER, 1000 kB): a getdata of 50,000 blocks from a peer that
 * never reads must not pile 50,000 blocks up in our memory. Its later messages wait meanwhile.
 */
export const MAX_SEND_BUFFER = 1_000_000;

const short = (id: string): string => `${id.slice(0, 16)}…`;
const invText = (items: readonly InvItem[]): string =>
  items.length === 1 && items[0]
    ? `${items[0].type === INV_BLOCK ? 'block' : items[0].type === INV_TX ? 'tx' : `type${items[0].type}`} ${short(idOfHash(items[0].hash))}`
    : `${items.length} items`;

/** The transcript line of a message: its command and what it is about, e.g. `inv block 0000ab12…`. */
export function describe(command: string, payload: Buffer): string {
  try {
    switch (command) {
      case 'version': {
        const v = decodeVersion(payload);
        return `version ${v.version} ${v.userAgent} height ${v.startHeight}`;
      }
      case 'inv':
      case 'getdata':
      case 'notfound':
        return `${command} ${invText(decodeInv(payload))}`;
      case 'getheaders': {
        const { locator } = decodeGetHeaders(payload);
        return `getheaders from ${locator[0] ? short(idOfHash(locator[0])) : 'genesis'} (${locator.length} in locator)`;
      }
      case 'headers': {
        const hs = decodeHeaders(payload);
        const last = hs[hs.length - 1];
        return `headers ${hs.length}${last ? ` up to ${short(Block.fromBuffer(last).getId())}` : ''}`;
      }
      case 'block': {
        const b = Block.fromBuffer(payload);
        return `block ${short(b.getId())} (${b.transactions?.length ?? 0} tx, ${payload.length} bytes)`;
      }
      case 'tx': {
        const t = Transaction.fromBuffer(payload);
        return `tx ${short(t.getId())} (${t.ins.length} in, ${t.outs.length} out)`;
      }
      case 'ping':
      case 'pong':
        return `${command} ${payload.toString('hex')}`;
      default:
        return payload.length ? `${command} (${payload.length} bytes)` : command;
    }
  } catch {
    return `${command} (${payload.length} bytes, malformed)`;
  }
}

export interface PeerHandler {
  message(peer: Peer, command: string, payload: Buffer): void;
  closed(peer: Peer, reason: string): void;
}

export interface SeenHeader {
  id: string;
  prev: string;
  nonce: number;
  /** Why we refused this block, when we did (a tampered copy: bad Merkle root). */
  refused?: string;
}

/** How many of a peer's headers we keep: enough for the dashboard's cards, bounded per peer. */
export const MAX_SEEN = 64;

export class Peer {
  readonly reader = new FrameReader();
  score = 0;
  closed = false;
  handshake = { gotVersion: false, gotVerack: false, sentVersion: false };
  /** The peer's best height when it connected, and the port it says it listens on. */
  startHeight = 0;
  listenPort = 0;
  userAgent = '';
  /** Blocks we asked this peer for and have not received yet. */
  readonly asked = new Set<string>();
  /**
   * What this peer showed us of its chain: the headers and blocks it sent (the newest 64), with the
   * ones we refused and why, and its tip as last heard (its getheaders locator's first hash, its last
   * header, its last block or inv). The dashboard draws each neighbour's chain from it.
   */
  readonly seen = new Map<string, SeenHeader>();
  tip: string | undefined;
  /** Set while we wait for the peer to read what we sent (see `hold`): its messages wait too. */
  private held = false;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    readonly session: Session | undefined,
    readonly outgoing: boolean,
    private readonly handler: PeerHandler,
    handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close('connection closed'));
    socket.on('error', (err) => this.close(err.message));
    socket.setTimeout(IDLE_MS, () => this.close('idle'));
    this.handshakeTimer = setTimeout(() => {
      if (!this.ready) this.close(`no version handshake within ${handshakeTimeoutMs / 1000} s`);
    }, handshakeTimeoutMs).unref();
  }

  /** Notes a header this peer sent (the newest MAX_SEEN kept); `tip` when it is the peer's newest. */
  saw(header: SeenHeader, tip = true): void {
    const before = this.seen.get(header.id);
    this.seen.delete(header.id);
    this.seen.set(header.id, {
      ...header,
      ...(before?.refused && !header.refused ? { refused: before.refused } : {}),
    });
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value as string);
    // A block it sends after its headers (getdata's answer) is no news of its tip: keep the newest.
    if (tip && !this.below(header.id)) this.tip = header.id;
  }

  /** Whether `id` is the tip or one of its ancestors among the headers seen. */
  private below(id: string): boolean {
    let at = this.tip;
    for (let i = 0; at && i <= MAX_SEEN; i++) {
      if (at === id) return true;
      at = this.seen.get(at)?.prev;
    }
    return false;
  }

  get address(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get ready(): boolean {
    return this.handshake.gotVersion && this.handshake.gotVerack;
  }

  /** Records a line as said by us (C if we dialled, S if they did) or by them. */
  private note(ours: boolean, line: string): void {
    if (!this.session) return;
    if (ours === this.outgoing) this.session.client(line);
    else this.session.server(line);
  }

  send(command: string, payload: Buffer = Buffer.alloc(0)): void {
    if (this.closed) return;
    this.note(true, describe(command, payload));
    this.socket.write(frame(command, payload));
  }

  /** Whether more than MAX_SEND_BUFFER bytes wait to go to the peer: time to `hold`. */
  get congested(): boolean {
    return this.socket.writableLength > MAX_SEND_BUFFER;
  }

  /**
   * Stops reading the peer's messages until it has read what we sent, then calls `resume` (the rest
   * of the work that filled the buffer) and takes its next messages (Bitcoin Core: fPauseSend).
   */
  hold(resume: () => void): void {
    if (this.closed || this.held) return;
    if (!this.congested) {
      resume(); // nothing waits to be sent: no 'drain' would come
      return;
    }
    this.held = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.held = false;
      if (this.closed) return;
      resume();
      if (this.held || this.closed) return;
      this.socket.resume();
      this.receive(Buffer.alloc(0));
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    try {
      while (!this.closed && !this.held) {
        // A peer that does not read our answers gets no more of them until it does.
        if (this.congested) {
          this.hold(() => undefined);
          return;
        }
        const m = this.reader.next();
        if (!m) return;
        this.note(false, describe(m.command, m.payload));
        if (m.badChecksum) {
          // Bitcoin Core drops a message with a bad checksum; repeated, it is misbehaviour here.
          this.misbehave(20, `bad checksum on ${m.command}`);
          continue;
        }
        this.handler.message(this, m.command, m.payload);
      }
    } catch (err) {
      if (err instanceof ProtocolError && err.fatal) {
        this.close(err.message);
        return;
      }
      // Anything a peer sends must never stop the node: a payload we could not handle counts against it.
      this.misbehave(
        20,
        err instanceof ProtocolError
          ? err.message
          : `could not handle the message: ${(err as Error).message}`,
      );
      if (!this.closed) this.receive(Buffer.alloc(0));
    }
  }

  /** Adds to the score; at BAN_SCORE the peer is disconnected. */
  misbehave(points: number, why: string): void {
    this.score += points;
    this.note(true, `! ${why} (misbehaviour score ${this.score}/${BAN_SCORE})`);
    if (this.score >= BAN_SCORE) this.close(`misbehaving: ${why}`);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    clearTimeout(this.handshakeTimer);
    this.socket.destroy();
    this.session?.close();
    this.handler.closed(this, reason);
  }

  closeReason = '';
}
