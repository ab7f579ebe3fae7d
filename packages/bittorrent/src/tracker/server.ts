/**
 * The HTTP tracker. A peer asks it, with a plain GET, who else has the torrent:
 *   GET /announce?info_hash=…&peer_id=…&port=6882&uploaded=0&downloaded=0&left=1048576&event=started
 * and gets a bencoded dictionary back: `interval` (seconds until the next announce) and `peers`.
 * - BEP 3: announce, events started / completed / stopped, `failure reason` on a bad request;
 * - BEP 23: compact=1 packs each IPv4 peer as 6 bytes (address, port);
 * - BEP 48: GET /scrape?info_hash=… gives complete / incomplete / downloaded per torrent.
 * - BEP 3's optional `ip` ("the IP address of this peer") is believed only from the lab machine
 *   itself (`trustIpFrom`): the resident peer and `portlab p2p` on a lab bound to 0.0.0.0 announce
 *   the public address students reach them at, while their request may come from 127.0.0.1. From any
 *   other machine the tracker records the request's source address, as BEP 3 allows: a student
 *   cannot make the tracker send the class's downloads to an address of their choosing.
 * - what it remembers is bounded (swarms.ts): torrents, peers per torrent, and peers announced from
 *   one address (64 over every torrent, the lab machine's own not counted), so that a student's
 *   flood of made-up peers neither fills a classmate's swarm nor the tracker's memory.
 * The tracker never touches the file: it only introduces peers to each other.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP, isIPv4, type Socket } from 'node:net';
import { ConnectionsPerAddress, isLocalAddress } from '@portlab/config';
import type { Transcript } from '@portlab/transcript';
import { plainAddress } from '@portlab/transcript';
import { encode } from '../bencode.js';
import { acceptedSessions, type SessionOf } from '../sessions.js';
import { describePeerId } from '../wire/handshake.js';
import { parseQuery } from './query.js';
import { type PeerEntry, type SwarmLimits, Swarms } from './swarms.js';

// Not `import … from 'node:http'`: on Node 22+ an ES import of node:http loads undici, about 3 MB of
// heap in every process that does it (issue #20, idle memory; nodejs/node#59686).
const { createServer } = process.getBuiltinModule('node:http');

export interface TrackerOptions {
  transcript: Transcript;
  /** The runtime's sessions, when `runtime.serve` serves this tracker. */
  sessionOf?: SessionOf;
  /** Seconds a peer should wait between announces. */
  interval?: number;
  /**
   * Whether an announce from this source address may name its own `ip`, and is free of the limit
   * of peers per address (swarms.ts). Default: only from this machine (a loopback address or one of
   * its interfaces' addresses).
   */
  trustIpFrom?: (source: string) => boolean;
  /** Limits of what the tracker remembers (default DEFAULT_SWARM_LIMITS). */
  limits?: SwarmLimits;
  /** HTTP connections at once from one address (default MAX_TRACKER_CONNECTIONS_PER_ADDRESS). */
  maxConnectionsPerAddress?: number;
}

/** numwant is not in BEP 3; trackers took it up with "if omitted, typically defaults to 50 peers". */
const DEFAULT_NUMWANT = 50;
/**
 * HTTP connections at once from one address, the lab machine's own not counted: a student's
 * `portlab p2p swarm --peers 50` announces at once from one machine, a flood of idle connections
 * must not hold the tracker's (and the resident peer's process's) sockets.
 */
export const MAX_TRACKER_CONNECTIONS_PER_ADDRESS = 64;
/** A numwant of 10^15 gets this many peers at most: an answer stays small whatever is asked. */
const MAX_NUMWANT = 200;

/** A bad announce: answered with BEP 3's `failure reason`, the text saying what to fix. */
class AnnounceError extends Error {}

export function createTracker(options: TrackerOptions): { server: Server; swarms: Swarms } {
  const interval = options.interval ?? 30;
  const trustIpFrom = options.trustIpFrom ?? ((source: string) => isLocalAddress(source));
  const swarms = new Swarms(2 * interval * 1000 + 10_000, options.limits);
  const server = createServer();
  const sessionOf = acceptedSessions(server, options.transcript, options.sessionOf);
  const perAddress = new ConnectionsPerAddress(
    options.maxConnectionsPerAddress ?? MAX_TRACKER_CONNECTIONS_PER_ADDRESS,
    (a) => !trustIpFrom(plainAddress(a)),
  );
  server.on('connection', (socket: Socket) => {
    const tooMany = perAddress.admit(socket);
    if (!tooMany) return;
    sessionOf(socket)?.server(`${tooMany}; closing`);
    socket.destroy();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const session = sessionOf(req.socket);
    const url = req.url ?? '/';
    const [pathname = '/', query = ''] = url.split('?', 2);
    const params = parseQuery(query);
    const reply = (status: number, body: Buffer, summary: string) => {
      session?.server(`${status} ${summary}`, ['summary']);
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    };
    session?.client(`${req.method} ${pathname} ${describeQuery(params)}`.trimEnd());
    if (req.method !== 'GET') return reply(405, Buffer.from('use GET\n'), 'method not allowed');
    try {
      if (pathname === '/announce') return announce(req, params, swarms, interval, trustIpFrom, reply);
      if (pathname === '/scrape') return scrape(params, swarms, reply);
    } catch (err) {
      if (!(err instanceof AnnounceError)) throw err;
      return reply(200, encode({ 'failure reason': err.message }), `failure reason: ${err.message}`);
    }
    reply(
      404,
      Buffer.from('This is a BitTorrent tracker: GET /announce?info_hash=... or /scrape\n'),
      'not found',
    );
  });
  return { server, swarms };
}

type Reply = (status: number, body: Buffer, summary: string) => void;

function announce(
  req: IncomingMessage,
  params: Map<string, Buffer[]>,
  swarms: Swarms,
  interval: number,
  trustIpFrom: (source: string) => boolean,
  reply: Reply,
) {
  const infoHash = bytes20(params, 'info_hash');
  const peerId = bytes20(params, 'peer_id');
  const port = number(params, 'port');
  if (port < 1 || port > 65535) throw new AnnounceError(`port ${port} is not a TCP port (1-65535)`);
  const left = number(params, 'left');
  const event = params.get('event')?.[0]?.toString('latin1') || undefined;
  if (event && !['started', 'completed', 'stopped'].includes(event)) {
    throw new AnnounceError(`unknown event '${event}': use started, completed or stopped`);
  }
  // The address the request came from, not one the peer claims: a peer cannot point others
  // elsewhere. Only the lab machine's own peers may name their address (see the top of this file).
  const source = plainAddress(req.socket.remoteAddress);
  const claimed = params.get('ip')?.[0]?.toString('latin1');
  const trusted = trustIpFrom(source);
  const ip = claimed && isIP(claimed) !== 0 && trusted ? claimed : source;
  // Another machine's entries count against its address's limit (swarms.ts); the lab machine's do not.
  const peer: PeerEntry = { ip, port, peerId, left, seenAt: Date.now(), ...(trusted ? {} : { source }) };
  const key = infoHash.toString('hex');
  const refusal = swarms.update(key, peer, event);
  if (refusal) throw new AnnounceError(refusal);
  const numwant = Math.min(params.has('numwant') ? number(params, 'numwant') : DEFAULT_NUMWANT, MAX_NUMWANT);
  const peers = event === 'stopped' ? [] : swarms.peersFor(key, peer, numwant);
  const compact = params.get('compact')?.[0]?.toString('latin1') !== '0';
  const { complete, incomplete } = swarms.counts(key);
  const body = encode({
    interval,
    'min interval': Math.min(5, interval),
    complete,
    incomplete,
    peers: compact
      ? compactPeers(peers)
      : peers.map((p) => ({ 'peer id': p.peerId, ip: p.ip, port: p.port })),
  });
  const list = peers.map((p) => `${p.ip}:${p.port}`).join(' ');
  reply(
    200,
    body,
    `interval=${interval} complete=${complete} incomplete=${incomplete} peers=[${list}]${compact ? ' (compact)' : ''}`,
  );
}

/** BEP 23: 4 bytes of IPv4 address and 2 of port, big-endian, per peer. IPv6 peers do not fit. */
function compactPeers(peers: PeerEntry[]): Buffer {
  const v4 = peers.filter((p) => isIPv4(p.ip));
  const out = Buffer.alloc(v4.length * 6);
  v4.forEach((p, i) => {
    p.ip.split('.').forEach((octet, k) => {
      out[i * 6 + k] = Number(octet);
    });
    out.writeUInt16BE(p.port, i * 6 + 4);
  });
  return out;
}

/** BEP 48: one entry per info_hash asked for (every torrent when none is named). */
function scrape(params: Map<string, Buffer[]>, swarms: Swarms, reply: Reply) {
  const asked = params.get('info_hash') ?? swarms.infoHashes().map((h) => Buffer.from(h, 'hex'));
  const files = new Map<string, unknown>();
  for (const hash of asked) {
    if (hash.length !== 20) throw new AnnounceError(`info_hash must be 20 bytes, got ${hash.length}`);
    files.set(hash.toString('latin1'), swarms.counts(hash.toString('hex')));
  }
  // Keys are raw 20-byte hashes: a Map keeps them as binary strings for the encoder.
  const body = encode({ files: new Map([...files].map(([k, v]) => [Buffer.from(k, 'latin1'), v])) });
  reply(200, body, `scrape of ${files.size} torrent(s)`);
}

function bytes20(params: Map<string, Buffer[]>, name: string): Buffer {
  const value = params.get(name)?.[0];
  if (value?.length !== 20) {
    throw new AnnounceError(`${name} must be 20 bytes, percent-encoded (got ${value?.length ?? 'none'})`);
  }
  return value;
}

function number(params: Map<string, Buffer[]>, name: string): number {
  const text = params.get(name)?.[0]?.toString('latin1') ?? '';
  if (!/^\d{1,15}$/.test(text)) throw new AnnounceError(`${name} must be a whole number, got '${text}'`);
  return Number(text);
}

/** The query as a person reads it: binary values in hex, peer ids with their client tag. */
function describeQuery(params: Map<string, Buffer[]>): string {
  return [...params]
    .map(([name, values]) =>
      values
        .map((v) => {
          if (name === 'peer_id' && v.length === 20) return `${name}=${describePeerId(v)}`;
          if (name === 'info_hash') return `${name}=${v.toString('hex')}`;
          const text = v.toString('latin1');
          return `${name}=${/^[ -~]*$/.test(text) ? text : `0x${v.toString('hex')}`}`;
        })
        .join(' '),
    )
    .join(' ');
}
