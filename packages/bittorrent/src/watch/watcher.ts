/**
 * A watcher: the peer a rights holder's agent runs. It joins a swarm as any client does (announce,
 * BEP 3), dials every peer the tracker lists, takes ONE piece from each (request its blocks, check
 * its SHA-1 against the metainfo) and records who sent it: IP address, port, the client named by its
 * peer_id, the piece, the time. It uploads nothing and keeps no file. This is how the proof is made
 * in the procedure ARCOM describes (labs/06-uses/TEACHER.*.md): the address is what the tracker
 * and every peer you trade with see; a verified piece shows the address really shared the file.
 *
 * It re-announces while it watches (`forSeconds`), so peers joining later are seen too.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Session, Transcript } from '@portlab/transcript';
import { encode } from '../bencode.js';
import { Bitfield } from '../bitfield.js';
import { type Metainfo, pieceSize, sha1 } from '../metainfo.js';
import { announce, type PeerAddress } from '../tracker/client.js';
import { clientName } from '../wire/client-name.js';
import { encodeHandshake } from '../wire/handshake.js';
import { BLOCK_SIZE, encodeMessage, type Message, MessageReader } from '../wire/messages.js';
import { handshakeLine, readHandshake } from '../wire/peer-wire.js';

/** What the watcher knows of one peer; a row of its table. */
export interface WatchRow {
  ip: string;
  port: number;
  /** When the tracker first listed it (ISO 8601). */
  listedAt: string;
  /**
   * `piece`: it sent a piece (verified or not, see `verified`); `connected`: it answered the
   * handshake but sent no piece; `tracker-only`: the tracker listed it, no connection was made
   * (refused, or no BitTorrent handshake).
   */
  status: 'piece' | 'connected' | 'tracker-only';
  /** The client its peer_id names (clientName), once it answered the handshake. */
  client?: string;
  peerId?: string;
  piece?: number;
  /** The piece's SHA-1 is the one the metainfo gives. */
  verified?: boolean;
  /** When the piece came in (ISO 8601): the time the record holds. */
  at?: string;
  /** Why there is no piece, when there is none. */
  note?: string;
}

export interface WatcherOptions {
  meta: Metainfo;
  /** The address a (dummy) listener binds, so the announce carries a real port. */
  host: string;
  /** The local address announces and dials come from (default: the system's choice). */
  localAddress?: string;
  /** BEP 3 `ip`, the address this watcher says it is at (the lab tracker believes it only from the lab machine). */
  publicAddress?: string;
  transcript: Transcript;
  /** How long to keep announcing and dialling new peers. */
  forSeconds: number;
  /** How long one peer has to send its piece. */
  peerTimeoutMs?: number;
  /** The lab account it announces for (`user=`, lab 6's check). */
  account?: string;
}

type WatcherEvents = { row: [row: WatchRow]; warning: [message: string] };

/** BEP 20: "-PW0100-": portlab's watcher, version 0.1.0, then random characters. */
function watcherPeerId(): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Buffer.from(
    `-PW0100-${[...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('')}`,
    'latin1',
  );
}

const CONNECT_TIMEOUT_MS = 5_000;
/** The tracker's `min interval` is 5 s: no sooner than that. */
const REANNOUNCE_MS = 5_000;

export class Watcher extends EventEmitter<WatcherEvents> {
  readonly peerId = watcherPeerId();
  /** By "ip:port", in the order the tracker listed them. */
  readonly rows = new Map<string, WatchRow>();
  private readonly probes = new Set<Promise<void>>();
  private readonly sockets = new Set<Socket>();
  private readonly listener: Server;
  private port = 0;
  /** Whether the tracker answered an announce at least once. */
  trackerAnswered = false;

  constructor(private readonly options: WatcherOptions) {
    super();
    // Someone may dial the port we announce: a watcher trades nothing, so it says so and hangs up.
    this.listener = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.destroy();
    });
  }

  /** Watches for `forSeconds`, then waits for the last pieces asked for; resolves with the table. */
  async run(): Promise<WatchRow[]> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(0, this.options.host, () => resolve());
    });
    this.port = (this.listener.address() as { port: number }).port;
    const until = Date.now() + this.options.forSeconds * 1000;
    let event: 'started' | undefined = 'started';
    while (true) {
      await this.announce(event);
      event = undefined;
      const wait = Math.min(REANNOUNCE_MS, until - Date.now());
      if (wait <= 0) break;
      await new Promise((r) => setTimeout(r, wait));
    }
    while (this.probes.size > 0) await Promise.all([...this.probes]);
    await this.announce('stopped').catch(() => undefined);
    this.listener.close();
    return [...this.rows.values()];
  }

  /** Stops at once (Ctrl-C): every connection closed, the table as it stands. */
  abort(): void {
    for (const socket of this.sockets) socket.destroy();
    this.listener.close();
  }

  private async announce(event?: 'started' | 'stopped'): Promise<void> {
    const { meta, localAddress, publicAddress, account } = this.options;
    let peers: PeerAddress[] = [];
    try {
      const answer = await announce(meta.announce, {
        infoHash: meta.infoHash,
        peerId: this.peerId,
        port: this.port,
        uploaded: 0,
        downloaded: 0,
        // It says it lacks everything: a tracker gives seeds only to peers that still download.
        left: meta.length,
        numwant: event === 'stopped' ? 0 : 200,
        ...(event ? { event } : {}),
        ...(publicAddress ? { ip: publicAddress } : {}),
        ...(localAddress ? { localAddress } : {}),
        ...(account ? { user: account } : {}),
      });
      peers = answer.peers;
      this.trackerAnswered = true;
    } catch (err) {
      this.emit('warning', (err as Error).message);
      return;
    }
    if (event === 'stopped') return;
    for (const peer of peers) {
      const key = `${peer.ip}:${peer.port}`;
      if (this.rows.has(key)) continue;
      const row: WatchRow = {
        ip: peer.ip,
        port: peer.port,
        listedAt: new Date().toISOString(),
        status: 'tracker-only',
      };
      this.rows.set(key, row);
      const probe = this.takeOnePiece(row).finally(() => {
        this.probes.delete(probe);
        this.emit('row', row);
      });
      this.probes.add(probe);
    }
  }

  /**
   * Dials the peer, handshakes, says `interested`, and once unchoked asks for every block of one
   * piece the peer has; checks the piece's SHA-1 and hangs up. Resolves when done or timed out.
   */
  private takeOnePiece(row: WatchRow): Promise<void> {
    const { meta, transcript, localAddress } = this.options;
    const timeoutMs = this.options.peerTimeoutMs ?? 15_000;
    return new Promise<void>((resolve) => {
      const socket = connect({ host: row.ip, port: row.port, ...(localAddress ? { localAddress } : {}) });
      this.sockets.add(socket);
      let session: Session | undefined;
      let finished = false;
      const finish = (note?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (note && row.status !== 'piece') row.note = note;
        // The row, for programs (the dashboard, lab 6's check): on the connection's last line.
        if (session)
          session.client(`watcher done: ${note ?? 'piece taken'}; closing`, undefined, {
            event: 'watch',
            torrent: meta.infoHash.toString('hex'),
            peer: `${row.ip}:${row.port}`,
            status: row.status,
            client: row.client ?? '',
            ...(row.piece !== undefined ? { piece: row.piece, verified: row.verified === true } : {}),
          });
        socket.destroy();
        session?.close();
        this.sockets.delete(socket);
        resolve();
      };
      const timer = setTimeout(
        () => finish(session ? `no piece within ${timeoutMs / 1000} s` : 'no answer'),
        timeoutMs,
      );
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => finish('no answer'));
      socket.on('error', (err) => finish((err as NodeJS.ErrnoException).code ?? err.message));
      socket.on('close', () => finish(session ? 'the peer closed the connection' : 'no connection'));
      socket.once('connect', () => {
        socket.setTimeout(0);
        session = transcript.connected(socket);
        socket.write(encodeHandshake(meta.infoHash, this.peerId));
        session.client(handshakeLine({ infoHash: meta.infoHash, peerId: this.peerId, extended: true }));
        readHandshake(socket).then(
          ({ handshake, rest }) => {
            session!.server(handshakeLine(handshake));
            if (!handshake.infoHash.equals(meta.infoHash)) return finish('answered for another torrent');
            row.status = 'connected';
            row.client = clientName(handshake.peerId);
            row.peerId = handshake.peerId.toString('latin1').replace(/[^!-~]/g, '.');
            this.exchange(socket, session!, row, rest, finish);
          },
          (err: Error) => finish(err.message),
        );
      });
    });
  }

  /** The messages after the handshake, until one piece is in (BEP 3, "peer messages"). */
  private exchange(
    socket: Socket,
    session: Session,
    row: WatchRow,
    rest: Buffer,
    finish: (note?: string) => void,
  ): void {
    const { meta } = this.options;
    const has = new Bitfield(meta.pieceHashes.length);
    const reader = new MessageReader(Math.max(9 + BLOCK_SIZE, 1 + has.bytes.length, 64 * 1024));
    const send = (message: Message, line: string) => {
      socket.write(encodeMessage(message));
      session.client(line);
    };
    // BEP 10: a peer that speaks extensions expects one handshake; this one names us and no extension.
    socket.write(
      encodeMessage({ type: 'extended', extId: 0, payload: encode({ m: {}, v: 'portlab watch' }) }),
    );
    let interested = false;
    let piece: number | undefined;
    let blocks: Buffer[] = [];
    let received = 0;
    const ask = () => {
      if (piece !== undefined || has.pieces === 0) return;
      if (!interested) {
        interested = true;
        send({ type: 'interested' }, 'interested');
      }
    };
    const request = () => {
      if (piece !== undefined || has.pieces === 0) return;
      // Any piece it has: an agent needs one, not a particular one.
      const held = [...Array(has.size).keys()].filter((i) => has.has(i));
      piece = held[Math.floor(Math.random() * held.length)]!;
      const size = pieceSize(meta, piece);
      blocks = [];
      received = 0;
      for (let begin = 0; begin < size; begin += BLOCK_SIZE) {
        socket.write(
          encodeMessage({ type: 'request', index: piece, begin, length: Math.min(BLOCK_SIZE, size - begin) }),
        );
      }
      session.client(`request piece ${piece} (${Math.ceil(size / BLOCK_SIZE)} blocks)`);
    };
    let unchoked = false;
    const onMessage = (message: Message) => {
      switch (message.type) {
        case 'bitfield':
          try {
            const field = Bitfield.fromWire(message.bits, has.size);
            for (let i = 0; i < has.size; i++) if (field.has(i)) has.set(i);
          } catch (err) {
            return finish(`bad bitfield: ${(err as Error).message}`);
          }
          session.server(`bitfield ${has.pieces}/${has.size} pieces`);
          ask();
          if (unchoked) request();
          break;
        case 'have':
          if (message.index < has.size && !has.has(message.index)) has.set(message.index);
          ask();
          if (unchoked) request();
          break;
        case 'unchoke':
          session.server('unchoke');
          unchoked = true;
          request();
          break;
        case 'choke':
          session.server('choke');
          unchoked = false;
          // BEP 3: requests are dropped on a choke; ask again at the next unchoke.
          piece = undefined;
          break;
        case 'piece': {
          // Only the blocks asked for, each once: a peer cannot fill the piece with extra or repeated blocks.
          if (message.index !== piece || message.begin % BLOCK_SIZE !== 0) break;
          const slot = message.begin / BLOCK_SIZE;
          const expected = Math.min(BLOCK_SIZE, pieceSize(meta, piece) - message.begin);
          if (blocks[slot] || message.block.length !== expected) break;
          blocks[slot] = message.block;
          received += message.block.length;
          if (received < pieceSize(meta, piece)) break;
          const verified = sha1(...blocks).equals(meta.pieceHashes[piece]!);
          Object.assign(row, { status: 'piece', piece, verified, at: new Date().toISOString() });
          session.server(
            `piece ${piece} from ${row.ip}:${row.port}: SHA-1 ${verified ? 'matches' : 'DIFFERS'}`,
          );
          finish();
          break;
        }
        default:
          break;
      }
    };
    const receive = (chunk: Buffer) => {
      try {
        for (const message of reader.push(chunk)) onMessage(message);
      } catch (err) {
        finish(`protocol error: ${(err as Error).message}`);
      }
    };
    socket.on('data', receive);
    if (rest.length) receive(rest);
    socket.resume();
  }
}
