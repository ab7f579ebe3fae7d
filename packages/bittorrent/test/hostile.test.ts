/**
 * The resident peer listens for the whole class: what an untrusted peer can do to it over a real
 * socket. Each attack is answered by closing that connection, with a transcript line saying why,
 * while an honest peer still downloads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeHandshake,
  encodeMessage,
  MAX_CONNECTIONS_PER_ADDRESS,
  MAX_PEER_REQUESTS,
  MessageReader,
  type Metainfo,
  PeerNode,
  type PeerNodeOptions,
} from '../src/index.js';
import { randomFile, sha256, startNode, startTracker, torrentFor, transcriptLines } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-hostile-'));
const logDir = path.join(dir, 'log');
let tracker: Awaited<ReturnType<typeof startTracker>>;
let file: string;
let meta: Metainfo;
const nodes: PeerNode[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  tracker = await startTracker(logDir);
  file = randomFile(dir, 'shared.bin', 1024 * 1024);
  ({ meta } = await torrentFor(file, tracker.url));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});
afterAll(() => {
  tracker.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A seed of the shared file, with `options` (an upload cap, a short handshake timeout). */
async function seed(options: Partial<PeerNodeOptions> = {}): Promise<PeerNode> {
  const node = new PeerNode({
    host: '127.0.0.1',
    port: 0,
    transcript: new Transcript('peer', 0, { logDir }),
    ...options,
  });
  await node.listen();
  nodes.push(node);
  await node.add(meta, file, { create: false });
  return node;
}

/** A raw connection: the messages it reads (after the handshake), and whether it was closed. */
async function raw(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const reader = new MessageReader(1 << 20);
  const got: string[] = [];
  let handshaken = false;
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  socket.on('data', (chunk: Buffer) => {
    // Our handshake has no bytes after it here: the seed's 68 come first, then messages.
    const rest = handshaken ? chunk : chunk.subarray(68);
    handshaken = true;
    for (const m of reader.push(rest)) got.push(m.type);
  });
  await new Promise((r) => socket.once('connect', r));
  return { socket, got, closed: () => closed };
}

/** The seed's transcript has a line matching `pattern`. */
const said = (pattern: RegExp) =>
  waitFor(() => transcriptLines(logDir, 'peer').some((l) => pattern.test(l)), { what: String(pattern) });

/** An honest peer still downloads the whole file from `node`. */
async function stillServes(node: PeerNode): Promise<void> {
  const honest = await startNode(logDir);
  nodes.push(honest);
  const target = path.join(dir, `out-${node.port}`, meta.name);
  const torrent = await honest.add(meta, target, { create: true, trackerUrl: tracker.url });
  if (!torrent.complete) await new Promise<void>((resolve) => torrent.once('done', resolve));
  expect(sha256(target)).toBe(sha256(file));
}

describe('an untrusted peer', () => {
  it(`a flood of requests (more than ${MAX_PEER_REQUESTS} waiting): closed, said in the transcript`, async () => {
    // Capped at 16 KiB/s: the requests wait in the seed's queue, as on a slow uplink.
    const node = await seed({ uploadRate: 16 * 1024 });
    const attacker = await raw(node.port);
    attacker.socket.write(encodeHandshake(meta.infoHash, Buffer.from('-XX0000-flood-flood-')));
    attacker.socket.write(encodeMessage({ type: 'interested' }));
    await waitFor(() => attacker.got.includes('unchoke'), { what: 'an unchoke' });
    const requests = [];
    // More than the limit even after the few blocks the cap's burst lets out at once.
    for (let i = 0; i < MAX_PEER_REQUESTS + 32; i++) {
      const index = i % meta.pieceHashes.length;
      requests.push(encodeMessage({ type: 'request', index, begin: 0, length: 16 * 1024 }));
    }
    attacker.socket.write(Buffer.concat(requests));
    await waitFor(() => attacker.closed(), {
      what: 'the flooding connection to be closed',
      timeoutMs: 10_000,
    });
    await said(/more than 500 requests waiting \(BEP 10 reqq\); closing this connection/);
    // Another peer is still welcome (a download at 16 KiB/s would take a minute: its bitfield says enough).
    const next = await raw(node.port);
    next.socket.write(encodeHandshake(meta.infoHash, Buffer.from('-XX0000-next-next-ne')));
    await waitFor(() => next.got.includes('bitfield'), { what: "the next peer's bitfield" });
  });

  it('a connection that never sends its handshake is closed after the timeout', async () => {
    const node = await seed({ handshakeTimeoutMs: 300 });
    const silent = await raw(node.port);
    await waitFor(() => silent.closed(), { what: 'the silent connection to be closed' });
    await said(/^no handshake within 0\.3 s; closing$/);
  });

  it(`takes ${MAX_CONNECTIONS_PER_ADDRESS} connections at once from one address, and closes the next at once`, async () => {
    const node = await seed();
    const held = [];
    for (let i = 0; i < MAX_CONNECTIONS_PER_ADDRESS; i++) held.push(await raw(node.port));
    const extra = await raw(node.port);
    await waitFor(() => extra.closed(), { what: 'the extra connection to be closed', timeoutMs: 5_000 });
    await said(/^too many connections from 127\.0\.0\.1 \(16\); closing$/);
    expect(held.filter((c) => c.closed())).toEqual([]);
    // Once those are gone, the address is welcome again.
    for (const c of held) c.socket.destroy();
    await stillServes(node);
  });
});
