/**
 * The class DNS on the network: the same answers over UDP and over TCP, on one port number
 * (RFC 1035 §4.2). UDP is the usual way, one datagram each way, no connection; TCP is for a reply
 * too large for a datagram (the client retries there after TC=1), and for clients that prefer it
 * (`dig +tcp`). Each query is one transcript session: `C: QUERY MX pc07.lab.test`,
 * `S: NOERROR MX 10 pc07.lab.test.`, with the client's address and port.
 *
 * Nothing a client sends can stop it: every message goes through `answer()`, which checks it
 * before it is parsed and turns any error into FORMERR or a dropped datagram. Nor can one client
 * crowd out the class: queries per second (UDP and TCP together) and TCP connections are bounded
 * per address (rate-limit.ts; the lab machine's own clients are not limited).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, isIPv6, type Server, type Socket } from 'node:net';
import { ConnectionsPerAddress, isLocalAddress } from '@portlab/config';
import type { Session, Transcript } from '@portlab/transcript';
import { answer, fitUdp, MAX_QUERY_BYTES, type ZoneView } from './answer.js';
import { QUERIES_PER_SECOND, RateLimit } from './rate-limit.js';

export interface DnsServerOptions {
  /** The zone as it is now: read at each query, so a registration is answered at once. */
  zone: () => ZoneView;
  transcript: Transcript;
  /** The TCP side's session of a connection (the app runtime opened it: runtime.sessionOf). */
  sessionOf?: (socket: Socket) => Session | undefined;
  /** The address family of the UDP socket: that of the host it binds. */
  host: string;
  /** Whether a client address is held to the limits per address. Default: every address but this machine's. */
  limited?: (address: string) => boolean;
  /** Queries a second from one address (default QUERIES_PER_SECOND; config dns.maxQueriesPerSecondPerAddress). */
  queriesPerSecond?: number;
}

/** RFC 7766 §6.2.3: a TCP connection idle this long is closed. */
const TCP_IDLE_MS = 10_000;
/** Connections at once over TCP: a class is about 30 labs, each with a resolver or two. */
const MAX_TCP_CONNECTIONS = 128;
/** TCP connections at once from one address: a resolver needs one or two (RFC 7766 §6.2.2). */
export const MAX_TCP_PER_ADDRESS = 8;

export interface DnsServers {
  /** A new UDP socket answering queries (the runtime binds it; a new one after each stop). */
  makeUdp: () => UdpSocket;
  /** The TCP server, queries framed by a 2-byte length (RFC 1035 §4.2.2). */
  tcp: Server;
}

export function createDnsServers(options: DnsServerOptions): DnsServers {
  const limited = options.limited ?? ((address: string) => !isLocalAddress(address));
  const rate = new RateLimit(limited, options.queriesPerSecond ?? QUERIES_PER_SECOND);
  const makeUdp = () => {
    const socket = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
    socket.on('message', (message, client) => {
      const verdict = rate.check(client.address);
      if (verdict === 'answer') answerDatagram(socket, message, client, options);
      else if (verdict === 'first-drop') {
        const session = options.transcript.accepted(udpPeer(socket, client));
        session.server(
          `dropped: ${overLimit(client.address, rate.perSecond)}; the rest of this second's are dropped unanswered and unlogged`,
        );
        session.close();
      }
    });
    // Once bound, a send to a client that vanished must not stop the server (a bind error is the runtime's).
    socket.once('listening', () => socket.on('error', (err) => console.error(`[dns] UDP: ${err.message}`)));
    return socket;
  };
  const tcp = createTcpServer({ allowHalfOpen: true });
  tcp.maxConnections = MAX_TCP_CONNECTIONS;
  const perAddress = new ConnectionsPerAddress(MAX_TCP_PER_ADDRESS, limited);
  tcp.on('connection', (socket) => {
    const tooMany = perAddress.admit(socket);
    if (tooMany) {
      const session = options.sessionOf?.(socket) ?? options.transcript.accepted(socket);
      session.server(`closed: ${tooMany}`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    serveConnection(socket, options, rate);
  });
  return { makeUdp, tcp };
}

const overLimit = (address: string, perSecond: number) =>
  `more than ${perSecond} queries a second from ${address}`;

function udpPeer(socket: UdpSocket, client: RemoteInfo) {
  const local = socket.address();
  return {
    remoteAddress: client.address,
    remotePort: client.port,
    localAddress: local.address,
    localPort: local.port,
  };
}

function answerDatagram(socket: UdpSocket, message: Buffer, client: RemoteInfo, options: DnsServerOptions) {
  const session = options.transcript.accepted(udpPeer(socket, client));
  const result = answerSafely(message, options);
  session.client(result.query);
  session.server(result.result);
  session.close();
  if (result.reply) socket.send(fitUdp(result.reply, result.udpLimit), client.port, client.address);
}

/**
 * One TCP connection: messages each behind a 2-byte length (RFC 1035 §4.2.2), answered in order;
 * several may come on one connection (RFC 7766 §6.2.1). A length no query can have, or a length
 * announced and never sent (idle timeout), closes the connection.
 */
function serveConnection(socket: Socket, options: DnsServerOptions, rate: RateLimit): void {
  const session = options.sessionOf?.(socket) ?? options.transcript.accepted(socket);
  let buffered = Buffer.alloc(0);
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on('error', () => {}); // 'close' follows; a reset by the client is not our failure
  socket.on('end', () => socket.end());
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length > MAX_QUERY_BYTES) {
        session.server(`closed: a ${length}-byte message is no query (at most ${MAX_QUERY_BYTES})`);
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) return;
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      if (rate.check(socket.remoteAddress ?? '') !== 'answer') {
        session.server(`closed: ${overLimit(socket.remoteAddress ?? '', rate.perSecond)}`);
        socket.destroy();
        return;
      }
      const result = answerSafely(message, options);
      session.client(result.query);
      session.server(result.result);
      if (!result.reply) continue;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(result.reply.length);
      socket.write(Buffer.concat([prefix, result.reply]));
    }
  });
}

/** `answer()` never meant to throw; if a bug makes it, the server still goes on (SERVFAIL is not owed to garbage). */
function answerSafely(message: Buffer, options: DnsServerOptions): ReturnType<typeof answer> {
  try {
    return answer(message, options.zone());
  } catch (err) {
    return {
      reply: null,
      query: `(${message.length} bytes)`,
      result: `dropped: ${(err as Error).message}`,
      udpLimit: 512,
    };
  }
}
