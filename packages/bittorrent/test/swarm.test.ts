import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  announce,
  encodeHandshake,
  encodeMessage,
  MessageReader,
  type Metainfo,
  type PeerNode,
  pieceSize,
  readHandshake,
} from '../src/index.js';
import {
  randomFile,
  sha256,
  startNode,
  startTracker,
  torrentFor,
  transcriptData,
  transcriptLines,
} from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-swarm-'));
const logDir = path.join(dir, 'log');
let tracker: Awaited<ReturnType<typeof startTracker>>;
const nodes: PeerNode[] = [];

beforeAll(async () => {
  tracker = await startTracker(logDir);
});
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});
afterAll(() => {
  tracker.server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function seeders(count: number, file: string, meta: Metainfo, rate?: number): Promise<PeerNode[]> {
  const started: PeerNode[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startNode(logDir, rate);
    await node.add(meta, file, { create: false });
    started.push(node);
  }
  nodes.push(...started);
  return started;
}

async function download(meta: Metainfo, target: string) {
  const node = await startNode(logDir);
  nodes.push(node);
  const torrent = await node.add(meta, target, { create: true });
  const done = torrent.complete ? Promise.resolve() : new Promise<void>((r) => torrent.once('done', r));
  return { node, torrent, done };
}

describe('a swarm of our peers', () => {
  it('completes when 1 of 4 seeders is killed half-way, re-requesting its pieces from the others', async () => {
    const file = randomFile(dir, 'four.bin', 3 * 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    const seeds = await seeders(4, file, meta, 1_000_000);
    const { torrent, done } = await download(meta, path.join(dir, 'out', 'four.bin'));
    const victim = seeds[0]!;
    torrent.on('piece', () => {
      if (torrent.have.pieces === Math.floor(torrent.have.size / 2)) victim.destroy();
    });
    await done;
    expect(sha256(path.join(dir, 'out', 'four.bin'))).toBe(sha256(file));
    const sources = [...torrent.sources.values()];
    expect(sources.length).toBe(4);
    expect(sources.find((s) => s.address.endsWith(`:${victim.port}`))!.pieces).toBeLessThan(
      meta.pieceHashes.length / 2,
    );
    const lines = transcriptLines(logDir, 'peer');
    expect(lines).toContainEqual(expect.stringMatching(/^peer gone/));
    expect(lines).toContainEqual(expect.stringMatching(/^piece \d+ re-requested$/));
    expect(lines).toContainEqual(expect.stringMatching(/^piece \d+ from 127\.0\.0\.1:\d+$/));
  });

  it('catches a corrupt piece by its SHA-1, fetches it from another peer, and drops the liar', async () => {
    const file = randomFile(dir, 'liar.bin', 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    await seeders(2, file, meta, 1_000_000);
    const liar = await startLiar(meta);
    await announce(tracker.url, {
      infoHash: meta.infoHash,
      peerId: liar.peerId,
      port: liar.port,
      uploaded: 0,
      downloaded: 0,
      left: 0,
    });
    const { torrent, done } = await download(meta, path.join(dir, 'out', 'liar.bin'));
    const bad: number[] = [];
    torrent.on('bad-piece', (index) => bad.push(index));
    await done;
    liar.server.close();
    expect(sha256(path.join(dir, 'out', 'liar.bin'))).toBe(sha256(file));
    expect(bad.length).toBe(2);
    expect(liar.connections).toBe(1); // dropped, and not dialled again
    expect([...torrent.sources.keys()]).not.toContain(`127.0.0.1:${liar.port}`);
    const lines = transcriptLines(logDir, 'peer');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^bad piece ${bad[0]} from 127.0.0.1:${liar.port}`)),
    );
    expect(lines).toContainEqual(`peer gone (sent 2 bad pieces)`);
    expect(lines).toContainEqual(`piece ${bad[0]} re-requested`);
  });

  it('resumes from what is on disk: only the missing pieces are downloaded', async () => {
    const file = randomFile(dir, 'resume.bin', 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    await seeders(1, file, meta);
    const target = path.join(dir, 'out', 'resume.bin');
    const partial = Buffer.alloc(meta.length);
    readFileSync(file).copy(partial, 0, 0, meta.length / 2); // the first half is right
    partial[10] = partial[10]! ^ 0xff; // but piece 0 was damaged
    writeFileSync(target, partial);
    const { torrent, done } = await download(meta, target);
    const half = meta.pieceHashes.length / 2;
    expect(torrent.have.pieces).toBe(half - 1);
    await done;
    expect(sha256(target)).toBe(sha256(file));
    expect(torrent.downloaded).toBe(meta.length - (half - 1) * meta.pieceLength);
  });

  it('sends a file larger than its read cache intact (evicted pieces lend their buffers to new ones)', async () => {
    // 24 MiB: more than the seeder's 16 MiB read cache, so pieces are read into the buffers of
    // pieces that left it (storage.test.ts checks a buffer still being sent is not taken).
    const file = randomFile(dir, 'large.bin', 24 * 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    await seeders(1, file, meta);
    const target = path.join(dir, 'out', 'large.bin');
    const { torrent, done } = await download(meta, target);
    const bad: number[] = [];
    torrent.on('bad-piece', (index) => bad.push(index));
    await done;
    expect(bad).toEqual([]);
    expect(sha256(target)).toBe(sha256(file));
  });

  it('names a peer that dialled us by the port it listens on (BEP 10 `p`), once', async () => {
    // Three peers each hold a third of the pieces and fetch the rest from the other two. Each dials
    // those that started before it: the first is only dialled, by peers on temporary ports.
    const file = randomFile(dir, 'thirds.bin', 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    const whole = readFileSync(file);
    const started: Awaited<ReturnType<typeof download>>[] = [];
    const twice: string[] = [];
    for (let k = 0; k < 3; k++) {
      const target = path.join(dir, `third-${k}`, 'thirds.bin');
      const partial = Buffer.alloc(meta.length);
      for (let i = k; i < meta.pieceHashes.length; i += 3) {
        whole.copy(partial, i * meta.pieceLength, i * meta.pieceLength, (i + 1) * meta.pieceLength);
      }
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, partial);
      const peer = await download(meta, target);
      // Never two connections to one peer at once.
      peer.torrent.on('peer', (address) => {
        const same = [...peer.torrent.wires].filter((w) => w.named && w.address === address);
        if (same.length > 1) twice.push(`peer ${k} twice connected to ${address}`);
      });
      started.push(peer);
    }
    await Promise.all(started.map((p) => p.done));
    expect(twice).toEqual([]);
    const listening = started.map(({ node }) => `127.0.0.1:${node.port}`);
    for (const [k, { torrent }] of started.entries()) {
      expect(sha256(torrent.storage.file)).toBe(sha256(file));
      const sources = [...torrent.sources.values()];
      for (const source of sources)
        expect(listening.filter((a) => a !== listening[k])).toContain(source.address);
      expect(sources.reduce((sum, s) => sum + s.pieces, 0)).toBe(
        meta.pieceHashes.length - Math.ceil((meta.pieceHashes.length - k) / 3),
      );
    }
    // On the dashboard's side: every peer named in this torrent's transcript data listens.
    const named = transcriptData(logDir, 'peer')
      .filter((d) => d.torrent === meta.infoHash.toString('hex'))
      .flatMap((d) => [d.peer, d.from].filter((a) => a !== undefined));
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named)).toEqual(new Set(listening));
    expect(transcriptLines(logDir, 'peer')).toContainEqual(
      expect.stringMatching(/^extended handshake client portlab, listens on port \d+$/),
    );
  });

  it('drops malformed handshakes, absurd length prefixes and bencode bombs, and nothing else', async () => {
    const file = randomFile(dir, 'bad.bin', 2 * 1024 * 1024);
    const { meta } = await torrentFor(file, tracker.url);
    const [seed] = await seeders(1, file, meta, 2_000_000);
    const { torrent, done } = await download(meta, path.join(dir, 'out', 'bad.bin'));
    await waitFor(() => torrent.have.pieces > 0, { what: 'a first piece' });
    const handshake = encodeHandshake(meta.infoHash, Buffer.from('-XX0000-evil-evil-ev'));
    const attacks: [string, Buffer][] = [
      ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
      ['a wrong protocol name', Buffer.from('\x13BitTorrent protocoX')],
      ['an unknown info_hash', encodeHandshake(Buffer.alloc(20, 7), Buffer.alloc(20, 1))],
      ['an absurd length prefix', Buffer.concat([handshake, Buffer.from([0x7f, 0xff, 0xff, 0xff, 7])])],
      [
        'a request over 16 KiB',
        Buffer.concat([handshake, encodeMessage({ type: 'request', index: 0, begin: 0, length: 1 << 20 })]),
      ],
      [
        'a request past the end of its piece',
        Buffer.concat([
          handshake,
          encodeMessage({ type: 'request', index: 0, begin: 2 ** 32 - 1, length: 16 * 1024 }),
        ]),
      ],
      ['a have past the last piece', Buffer.concat([handshake, encodeMessage({ type: 'have', index: 1e6 })])],
      [
        'a bitfield of the wrong length',
        Buffer.concat([handshake, encodeMessage({ type: 'bitfield', bits: Buffer.alloc(1) })]),
      ],
      [
        'a piece larger than any message of this torrent',
        Buffer.concat([
          handshake,
          encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(1 << 20) }),
        ]),
      ],
      [
        'an extended handshake that is not bencode',
        Buffer.concat([
          handshake,
          encodeMessage({ type: 'extended', extId: 0, payload: Buffer.from('d1:p') }),
        ]),
      ],
      [
        'a bencode bomb in the extended handshake',
        Buffer.concat([
          handshake,
          encodeMessage({ type: 'extended', extId: 0, payload: Buffer.from('l'.repeat(30_000)) }),
        ]),
      ],
    ];
    for (const [name, bytes] of attacks) {
      await expect(closedAfter(seed!.port, bytes), name).resolves.toBe(true);
    }
    await done;
    expect(sha256(path.join(dir, 'out', 'bad.bin'))).toBe(sha256(file));
    const lines = transcriptLines(logDir, 'peer');
    expect(lines).toContainEqual(expect.stringMatching(/not a plain BitTorrent handshake \(first byte 0x47/));
    expect(lines).toContainEqual(expect.stringMatching(/message length 2147483647 is larger than the limit/));
    expect(lines).toContainEqual(expect.stringMatching(/bad extended handshake: nesting deeper/));
    expect(lines).toContainEqual(expect.stringMatching(/bitfield of 1 bytes for \d+ pieces/));
    expect(lines).toContainEqual(expect.stringMatching(/message length 1048585 is larger than the limit/));
    expect(lines).toContainEqual('no such torrent here; closing');
  });
});

/** Sends `bytes` to a peer and resolves true once the peer closes the connection. */
function closedAfter(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(true));
    setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 30_000).unref(); // a bound on a hang: a busy machine may take seconds
  });
}

/** A peer that claims every piece and answers each request with random bytes. */
async function startLiar(meta: Metainfo) {
  const peerId = Buffer.from('-LI0000-liarliarliar');
  const liar = { server: createServer() as Server, port: 0, peerId, connections: 0 };
  liar.server.on('connection', async (socket: Socket) => {
    liar.connections++;
    socket.on('error', () => undefined);
    socket.resume();
    const { rest } = await readHandshake(socket);
    socket.write(encodeHandshake(meta.infoHash, peerId));
    const all = Buffer.alloc(Math.ceil(meta.pieceHashes.length / 8));
    for (let i = 0; i < meta.pieceHashes.length; i++) all[i >> 3]! |= 0x80 >> (i & 7);
    socket.write(encodeMessage({ type: 'bitfield', bits: all }));
    const reader = new MessageReader(1 << 20);
    const onData = (chunk: Buffer) => {
      for (const m of reader.push(chunk)) {
        if (m.type === 'interested') socket.write(encodeMessage({ type: 'unchoke' }));
        if (m.type === 'request' && m.begin + m.length <= pieceSize(meta, m.index)) {
          socket.write(
            encodeMessage({ type: 'piece', index: m.index, begin: m.begin, block: randomBytes(m.length) }),
          );
        }
      }
    };
    onData(rest);
    socket.on('data', onData);
    socket.resume();
  });
  await new Promise<void>((resolve) => liar.server.listen(0, '127.0.0.1', resolve));
  liar.port = (liar.server.address() as { port: number }).port;
  return liar;
}
