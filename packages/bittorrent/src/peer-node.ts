/**
 * A peer: one simulated machine of the swarm. It listens on its own port (peers dial it: it is a
 * server) and dials others (it is a client), holds any number of torrents, and sends no faster
 * than its upload cap, shared by all its connections as one machine's uplink is.
 */
import { randomBytes } from 'node:crypto';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { ConnectionsPerAddress } from '@portlab/config';
import type { Transcript } from '@portlab/transcript';
import type { Metainfo } from './metainfo.js';
import { TokenBucket } from './rate.js';
import { acceptedSessions, type SessionOf } from './sessions.js';
import { FileStorage } from './storage.js';
import { peerData, Torrent } from './torrent.js';
import { encodeHandshake } from './wire/handshake.js';
import { handshakeLine, readHandshake } from './wire/peer-wire.js';

export interface PeerNodeOptions {
  /** The address this peer listens on; 0.0.0.0 or :: for every interface. */
  host: string;
  /**
   * The address other peers reach this one at, announced to the tracker (BEP 3 `ip`): the lab's
   * config.publicAddress. Default: `host`, when it is one address.
   */
  publicAddress?: string;
  /**
   * The local address its connections (announces, dials) come from, so that the tracker and other
   * peers see it at its address, not at whichever the system picks (127.0.0.1 for a lab on
   * 127.0.0.2): config's clientSourceAddress(). Default: `host`, when it is one address.
   */
  localAddress?: string;
  /** The port to listen on; 0 lets the system choose. */
  port: number;
  transcript: Transcript;
  /** Upload cap in bytes per second (default: none). */
  uploadRate?: number;
  /** The runtime's sessions, when `runtime.serve` serves this peer's server. */
  sessionOf?: SessionOf;
  /** The lab account whose peer this is: sent with each announce (tracker/client.ts, `user`). */
  account?: string;
  /** Milliseconds a peer that dialled us has to send its handshake (default 10 s, readHandshake). */
  handshakeTimeoutMs?: number;
  /** Connections at once from one address (default MAX_CONNECTIONS_PER_ADDRESS; config p2p). */
  maxConnectionsPerAddress?: number;
}

/** Connections at once to one peer (a simulated machine): about as many as a machine's peers need. */
const MAX_CONNECTIONS = 200;
/**
 * Connections at once from one address: a student's machine runs a few peers, and must not take
 * every connection a classmate's peer (or the resident one) accepts.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 16;

export interface AddOptions {
  /** Create the file if missing (to download); a seed's file must exist. */
  create: boolean;
  /** Announce here instead of the metainfo's tracker. */
  trackerUrl?: string;
}

/** BEP 20 peer_id: "-PL0100-" names this client and version, 12 random characters follow. */
function newPeerId(): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const random = [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
  return Buffer.from(`-PL0100-${random}`, 'latin1');
}

export class PeerNode {
  readonly peerId = newPeerId();
  readonly server: Server;
  readonly torrents = new Map<string, Torrent>();
  readonly upload: TokenBucket;
  readonly host: string;
  /** The address announced to the tracker (undefined: the tracker records the source address). */
  readonly publicAddress: string | undefined;
  /** The local address of its connections (undefined: the system's choice). */
  readonly localAddress: string | undefined;
  readonly transcript: Transcript;
  readonly account: string | undefined;
  private readonly sessionOf: SessionOf;
  private boundPort: number | undefined;
  private readonly perAddress: ConnectionsPerAddress;

  constructor(private readonly options: PeerNodeOptions) {
    this.host = options.host;
    const specific = isIP(options.host) !== 0 && options.host !== '0.0.0.0' && options.host !== '::';
    this.publicAddress = options.publicAddress ?? (specific ? options.host : undefined);
    this.localAddress = options.localAddress ?? (specific ? options.host : undefined);
    this.transcript = options.transcript;
    this.account = options.account;
    this.upload = new TokenBucket(options.uploadRate ?? Number.POSITIVE_INFINITY);
    this.perAddress = new ConnectionsPerAddress(
      options.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS,
    );
    this.server = createServer({ pauseOnConnect: true });
    this.server.maxConnections = MAX_CONNECTIONS;
    this.sessionOf = acceptedSessions(this.server, options.transcript, options.sessionOf);
    this.server.on('connection', (socket) => void this.accept(socket));
    this.server.on('listening', () => {
      const address = this.server.address();
      if (address && typeof address === 'object') this.boundPort = address.port;
    });
  }

  /** The port peers reach us on: the bound one once listening. */
  get port(): number {
    return this.boundPort ?? this.options.port;
  }

  /** Listens on host:port (for peers run without an app runtime). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          // The code stays, so a caller that picked the port itself can try another (EADDRINUSE).
          Object.assign(
            new Error(
              err.code === 'EADDRINUSE'
                ? `port ${this.options.port} is in use: choose another with --port`
                : `cannot listen on ${this.host}:${this.options.port}: ${err.message}`,
            ),
            { code: err.code },
          ),
        ),
      );
      this.server.listen(this.options.port, this.host, () => resolve(this.port));
    });
  }

  /** Adds a torrent: checks what the file already holds (resume), then joins the swarm. */
  async add(meta: Metainfo, file: string, options: AddOptions): Promise<Torrent> {
    const key = meta.infoHash.toString('hex');
    const existing = this.torrents.get(key);
    if (existing) return existing;
    const storage = await FileStorage.open(file, meta, options.create);
    const have = await storage.verify();
    const torrent = new Torrent(meta, storage, have, this, options.trackerUrl);
    this.torrents.set(key, torrent);
    await torrent.start();
    return torrent;
  }

  /** Leaves every swarm politely and stops listening. */
  async close(): Promise<void> {
    this.server.close();
    await Promise.all([...this.torrents.values()].map((t) => t.stop()));
  }

  /** Stops at once, telling no one: a machine that crashes. */
  destroy(): void {
    this.server.close();
    for (const torrent of this.torrents.values()) torrent.destroy();
  }

  /** A peer dialled us: read its handshake, find the torrent it names, answer with ours. */
  private async accept(socket: Socket): Promise<void> {
    const session = this.sessionOf(socket);
    socket.on('error', () => undefined); // the wire reports errors once attached
    const refuse = (reason: string) => {
      session?.server(`${reason}; closing`);
      socket.destroy();
    };
    const tooMany = this.perAddress.admit(socket);
    if (tooMany) return refuse(tooMany);
    socket.resume();
    let dialled: Awaited<ReturnType<typeof readHandshake>>;
    try {
      dialled = await readHandshake(socket, this.options.handshakeTimeoutMs);
    } catch (err) {
      return refuse((err as Error).message);
    }
    const { handshake, rest } = dialled;
    if (!session) return refuse('no transcript session for this connection');
    // Its socket's port is a temporary one: a peer that speaks BEP 10 is named by its extended
    // handshake instead (Torrent.introduce).
    session.client(
      handshakeLine(handshake),
      undefined,
      handshake.extended ? undefined : peerData(handshake, session),
    );
    const torrent = this.torrents.get(handshake.infoHash.toString('hex'));
    if (!torrent) return refuse('no such torrent here');
    socket.write(encodeHandshake(torrent.meta.infoHash, this.peerId));
    session.server(
      handshakeLine({ infoHash: torrent.meta.infoHash, peerId: this.peerId, extended: true }),
      undefined,
      torrent.describe(),
    );
    torrent.attach(socket, session, false, handshake, rest);
  }
}
