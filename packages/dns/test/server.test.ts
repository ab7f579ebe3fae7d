/**
 * The limits per address of the class DNS, with real sockets. Every test client is on this machine,
 * whose own clients are not limited: these servers are told every address is limited, as a
 * student's PC is. 127.0.0.2 stands for a classmate (Linux answers on all of 127.0.0.0/8).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rawConnection, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsServers, type DnsServers } from '../src/index.js';
import { QUERIES_PER_SECOND } from '../src/rate-limit.js';
import { MAX_TCP_PER_ADDRESS } from '../src/server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-dns-server-'));
const transcript = new Transcript('dns', 0, { logDir: dir });
const zone = () => ({
  zone: 'lab.test',
  ttl: 60,
  serial: 1,
  nsAddress: '127.0.0.1',
  labs: new Map([['pc07', '192.168.1.57']]),
});
const closers: (() => void)[] = [];

/** The servers, UDP and TCP each on a port of its own (the app puts both on one number). */
async function start(
  limited: (address: string) => boolean,
): Promise<{ servers: DnsServers; port: number; tcpPort: number }> {
  const servers = createDnsServers({ zone, transcript, host: '127.0.0.1', limited });
  const udp = servers.makeUdp();
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => servers.tcp.listen(0, '127.0.0.1', resolve));
  closers.push(
    () => udp.close(),
    () => servers.tcp.close(),
  );
  return { servers, port: udp.address().port, tcpPort: (servers.tcp.address() as { port: number }).port };
}

let limitedPort: number;
beforeAll(async () => {
  ({ port: limitedPort } = await start(() => true));
});
afterAll(() => {
  for (const close of closers) close();
  rmSync(dir, { recursive: true, force: true });
});

function query(id: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, Buffer.from('\x04pc07\x03lab\x04test\x00\x00\x01\x00\x01', 'latin1')]);
}

async function udpClient(address: string): Promise<{ socket: UdpSocket; replies: number[] }> {
  const socket = createSocket('udp4');
  const replies: number[] = [];
  socket.on('message', (reply) => replies.push(reply.readUInt16BE(0)));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  closers.push(() => socket.close());
  return { socket, replies };
}

const send = (socket: UdpSocket, message: Buffer, port: number) =>
  new Promise((resolve) => socket.send(message, port, '127.0.0.1', resolve));

describe('a flood of queries from one address (UDP)', () => {
  it(`answers ${QUERIES_PER_SECOND} a second, drops the rest unlogged, and still answers a classmate`, async () => {
    const flooder = await udpClient('127.0.0.1');
    // Sent faster than read: the socket's receive queue (~256 datagrams here) fills with the flood.
    for (let id = 0; id < 1000; id++) await send(flooder.socket, query(id), limitedPort);
    await waitFor(() => flooder.replies.length >= QUERIES_PER_SECOND, { what: 'the first answers' });
    const classmate = await udpClient('127.0.0.2');
    await send(classmate.socket, query(4242), limitedPort);
    await waitFor(() => classmate.replies.includes(4242), { what: "the classmate's answer" });
    // Without the limit every query read is answered and logged: ~256 of each.
    expect(flooder.replies.length).toBeLessThanOrEqual(2 * QUERIES_PER_SECOND);
    transcript.flush();
    const log = readFileSync(path.join(dir, 'dns.ndjson'), 'utf8');
    expect(log).toContain(`dropped: more than ${QUERIES_PER_SECOND} queries a second from 127.0.0.1`);
    expect(log.split('\n').filter((l) => l.includes('"QUERY A pc07.lab.test"')).length).toBeLessThanOrEqual(
      2 * QUERIES_PER_SECOND + 1,
    );
  });

  it("the lab machine's own clients are not limited (the bench, the lab's tools)", async () => {
    const { port } = await start(() => false);
    const client = await udpClient('127.0.0.1');
    // In batches that fit the socket's receive queue: UDP drops what overflows it, limit or not.
    for (let batch = 0; batch < 6; batch++) {
      for (let id = batch * 50; id < (batch + 1) * 50; id++) await send(client.socket, query(id), port);
      await waitFor(() => client.replies.length === (batch + 1) * 50, { what: `batch ${batch}'s answers` });
    }
  });
});

describe('TCP (RFC 7766)', () => {
  const tcpClient = async (port: number) => {
    const client = await rawConnection(port);
    closers.push(() => client.socket.destroy());
    return client;
  };
  const framed = (id: number) => {
    const q = query(id);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(q.length);
    return Buffer.concat([prefix, q]);
  };

  it(`takes ${MAX_TCP_PER_ADDRESS} connections from one address, and closes the next`, async () => {
    const { tcpPort: port } = await start(() => true);
    const held = [];
    for (let i = 0; i < MAX_TCP_PER_ADDRESS; i++) held.push(await tcpClient(port));
    const extra = await tcpClient(port);
    await waitFor(() => extra.closed(), { what: 'the extra connection to be closed' });
    expect(held.some((c) => c.closed())).toBe(false);
  });

  it(`more than ${QUERIES_PER_SECOND} queries a second on one connection: closed, said in the transcript`, async () => {
    const { tcpPort: port } = await start(() => true);
    const client = await tcpClient(port);
    let replies = 0;
    client.socket.on('data', () => replies++);
    client.socket.write(Buffer.concat(Array.from({ length: 2 * QUERIES_PER_SECOND }, (_, id) => framed(id))));
    await waitFor(() => client.closed(), { what: 'the connection to be closed' });
    expect(replies).toBeGreaterThan(0);
    transcript.flush();
    expect(readFileSync(path.join(dir, 'dns.ndjson'), 'utf8')).toContain(
      `closed: more than ${QUERIES_PER_SECOND} queries a second from 127.0.0.1`,
    );
  });
});
