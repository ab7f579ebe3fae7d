/**
 * The watcher (src/watch/watcher.ts) against peers that behave well and badly, and the client names
 * it reads from peer ids (src/wire/client-name.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transcript } from '@portlab/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  announce,
  clientName,
  createMetainfo,
  encodeHandshake,
  encodeMessage,
  HandshakeReader,
  MessageReader,
  type Metainfo,
  type PeerNode,
  parseMetainfo,
  Watcher,
} from '../src/index.js';
import { randomFile, startNode, startTracker, torrentFor, transcriptData } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-watch-'));
const logDir = path.join(dir, 'log');
let tracker: Awaited<ReturnType<typeof startTracker>>;
const nodes: PeerNode[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  tracker = await startTracker(logDir);
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  for (const s of servers) s.close();
  tracker.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Tells the lab tracker that a seeder (left 0) of `meta` listens on 127.0.0.1:`port`. */
async function announceSeeder(meta: Metainfo, port: number, peerId: string): Promise<void> {
  await announce(tracker.url, {
    infoHash: meta.infoHash,
    peerId: Buffer.from(peerId),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'started',
  });
}

/** A watcher of `meta` that makes one round (forSeconds 0), logging to the test's transcript. */
function watcherOf(meta: Metainfo, peerTimeoutMs?: number): Watcher {
  return new Watcher({
    meta,
    host: '127.0.0.1',
    transcript: new Transcript('peer', 0, { logDir }),
    forSeconds: 0,
    ...(peerTimeoutMs !== undefined ? { peerTimeoutMs } : {}),
  });
}

/**
 * A peer that claims every piece, unchokes at once and answers each request with zeros: it sends a
 * piece, but not the file's (`repeat`: always the piece's first block, however often asked for
 * others). Its peer_id says Transmission 3.00.
 */
async function lyingPeer(infoHash: Buffer, pieces: number, repeat = false): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    const handshake = new HandshakeReader();
    let reader: MessageReader | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (!reader) {
        const done = handshake.push(chunk);
        if (!done) return;
        socket.write(encodeHandshake(infoHash, Buffer.from('-TR3000-lyinglyingly')));
        const bits = Buffer.alloc(Math.ceil(pieces / 8), 0xff);
        if (pieces % 8) bits[bits.length - 1] = (0xff << (8 - (pieces % 8))) & 0xff;
        socket.write(encodeMessage({ type: 'bitfield', bits }));
        socket.write(encodeMessage({ type: 'unchoke' }));
        reader = new MessageReader(64 * 1024);
        chunk = done.rest;
      }
      for (const m of reader.push(chunk)) {
        if (m.type === 'request')
          socket.write(
            encodeMessage({
              type: 'piece',
              index: m.index,
              begin: repeat ? 0 : m.begin,
              block: Buffer.alloc(repeat ? 16 * 1024 : m.length),
            }),
          );
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('Watcher', () => {
  it('records a verified piece from an honest peer, ✘ from one that sends wrong bytes, nothing from an address where nothing listens', async () => {
    const file = randomFile(dir, 'watched.bin', 300_000);
    const { meta } = await torrentFor(file, tracker.url);
    const honest = await startNode(logDir);
    nodes.push(honest);
    await honest.add(meta, file, { create: false });
    const liar = await lyingPeer(meta.infoHash, meta.pieceHashes.length);
    await announceSeeder(meta, liar, '-TR3000-lyinglyingly');
    await announceSeeder(meta, 1, '-XX0001-nobodyhere12'); // port 1 on 127.0.0.1: refused
    const watcher = watcherOf(meta, 5_000);
    const rows = new Map((await watcher.run()).map((r) => [r.port, r]));
    expect(rows.size).toBe(3);
    const good = rows.get(honest.port)!;
    expect(good).toMatchObject({ ip: '127.0.0.1', status: 'piece', verified: true, client: 'portlab 0.1' });
    expect(good.piece).toBeGreaterThanOrEqual(0);
    expect(good.piece).toBeLessThan(meta.pieceHashes.length);
    expect(Date.parse(good.at!)).not.toBeNaN();
    expect(rows.get(liar)).toMatchObject({ status: 'piece', verified: false, client: 'Transmission 3.00' });
    expect(rows.get(1)).toMatchObject({ status: 'tracker-only', note: 'ECONNREFUSED' });
    expect(rows.get(1)!.client).toBeUndefined();
    // Each connection's outcome, for programs, in the peer transcript.
    const watched = transcriptData(logDir, 'peer').filter((d) => d.event === 'watch');
    expect(watched).toContainEqual(
      expect.objectContaining({ peer: `127.0.0.1:${liar}`, status: 'piece', verified: false }),
    );
    expect(watched).toContainEqual(
      expect.objectContaining({ peer: `127.0.0.1:${honest.port}`, status: 'piece', verified: true }),
    );
  });

  it('does not take the same block sent again and again for a whole piece (connected, no piece)', async () => {
    const file = randomFile(dir, 'repeated.bin', 200_000);
    // Pieces of 4 blocks: a peer repeating the first one never completes a piece.
    const meta = parseMetainfo(await createMetainfo(file, { announce: tracker.url, pieceLength: 64 * 1024 }));
    const port = await lyingPeer(meta.infoHash, meta.pieceHashes.length, true);
    await announceSeeder(meta, port, '-TR3000-repeatrepeat');
    const watcher = watcherOf(meta, 1_000);
    const [row] = await watcher.run();
    expect(row).toMatchObject({ port, status: 'connected', note: 'no piece within 1 s' });
    expect(row!.piece).toBeUndefined();
  });

  it('with the tracker unreachable, warns and returns an empty table', async () => {
    const file = randomFile(dir, 'lonely.bin', 20_000);
    const { meta } = await torrentFor(file, 'http://127.0.0.1:1/announce');
    const watcher = watcherOf(meta);
    const warnings: string[] = [];
    watcher.on('warning', (m) => warnings.push(m));
    expect(await watcher.run()).toEqual([]);
    expect(warnings[0]).toMatch(/cannot reach the tracker at http:\/\/127\.0\.0\.1:1\/announce/);
  });
});

describe('clientName', () => {
  it.each([
    ['-TR3000-', 'Transmission 3.00'],
    ['-TR4050-', 'Transmission 4.0.5'],
    ['-qB4630-', 'qBittorrent 4.6.3'],
    ['-PL0100-', 'portlab 0.1'],
    ['-PW0100-', 'portlab watch 0.1'],
    ['-DE2110-', 'Deluge 2.1.1'],
    ['A2-1-36-0-', 'aria2 1.36.0'],
    ['-aria2-', 'aria2'],
    ['-ZZ1234-', '-ZZ1234-'],
    ['M7-2-1--', 'M7-2-1--aaaaaaaaaaaa'],
  ])('%s… is %s', (prefix, name) => {
    const id = Buffer.alloc(20, 0x61);
    id.write(prefix, 'latin1');
    expect(clientName(id)).toBe(name);
  });

  it('shows a binary peer_id (no printable tag) in hex rather than as garbage', () => {
    expect(clientName(Buffer.from('00ff10203040506070809000aabbccddeeff0011', 'hex'))).toBe(
      '0x00ff102030405060',
    );
  });
});
