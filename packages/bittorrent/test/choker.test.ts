import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Choker } from '../src/choker.js';
import {
  BLOCK_SIZE,
  encodeMessage,
  type Message,
  MessageReader,
  PeerWire,
  TokenBucket,
} from '../src/index.js';

/**
 * The choker over real connections: each "peer" is a loopback socket whose other end is a
 * PeerWire in this process, the side the choker steers; the peer's end reads what we send it.
 */
interface Remote {
  socket: Socket;
  heard: Message['type'][];
  wire: PeerWire;
}

let dir: string;
let server: Server;
let wires: Set<PeerWire>;
let choker: Choker;
const accepted: Socket[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'portlab-choker-'));
  wires = new Set();
  server = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  choker = new Choker({
    wires,
    upload: new TokenBucket(Number.POSITIVE_INFINITY),
    // Two slots, and no rechoke timer during the test: the test calls rechoke() itself.
    slots: 2,
    rechokeMs: 3_600_000,
    source: {
      has: (index) => index === 0,
      pieceSize: () => BLOCK_SIZE,
      read: (_index, _begin, length) => ({ data: Buffer.alloc(length, 7), sent: () => undefined }),
    },
  });
});

afterEach(async () => {
  choker.stop();
  for (const wire of wires) wire.close('test over');
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function remote(n: number): Promise<Remote> {
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  const reader = new MessageReader(64 * 1024);
  const heard: Message['type'][] = [];
  socket.on('data', (chunk) => {
    for (const m of reader.push(chunk)) heard.push(m.type);
  });
  const theirs = await waitFor(() => accepted.shift(), { what: 'the connection' });
  const transcript = new Transcript('peer', 0, { logDir: dir });
  const handshake = { infoHash: Buffer.alloc(20), peerId: Buffer.alloc(20, n), extended: false };
  const wire = new PeerWire(theirs, transcript.connected(theirs), false, handshake, 1, {
    onUnnamed: () => undefined,
    onMessage: (w, m) => {
      if (m.type === 'request') choker.request(w, m);
    },
    onClose: (w) => {
      wires.delete(w);
      choker.gone(w);
    },
  });
  wire.on('interested', () => choker.interested(wire));
  wire.on('uninterested', () => choker.uninterested(wire));
  wires.add(wire);
  wire.start(Buffer.alloc(0));
  return { socket, heard, wire };
}

const send = (r: Remote, m: Message) => r.socket.write(encodeMessage(m));

describe('Choker (BEP 3 choking, round robin)', () => {
  it('unchokes interested peers up to its slots; the others wait their turn', async () => {
    const peers = [await remote(1), await remote(2), await remote(3)];
    // A peer that is not interested is never unchoked.
    expect(peers.every((p) => p.wire.amChoking)).toBe(true);
    for (const p of peers) {
      send(p, { type: 'interested' });
      await waitFor(() => p.wire.peerInterested, { what: 'interested' });
    }
    await waitFor(() => peers[1]!.heard.includes('unchoke'), { what: 'the second unchoke' });
    expect(peers.map((p) => p.wire.amChoking)).toEqual([false, false, true]);
    expect(peers[0]!.heard).toEqual(['unchoke']);

    // The round: the peer unchoked longest (the first) gives its slot to the one that waits.
    choker.rechoke();
    expect(peers.map((p) => p.wire.amChoking)).toEqual([true, false, false]);
    await waitFor(() => peers[2]!.heard.includes('unchoke'), { what: 'the third peer unchoked' });
    await waitFor(() => peers[0]!.heard.length === 2, { what: 'the first peer choked' });
    expect(peers[0]!.heard).toEqual(['unchoke', 'choke']);

    // A peer that loses interest frees its slot for the one that waited.
    send(peers[1]!, { type: 'notInterested' });
    await waitFor(() => !peers[0]!.wire.amChoking, { what: 'the first peer unchoked again' });
    expect(peers[1]!.wire.amChoking).toBe(true);

    // A peer that leaves frees its slot too.
    send(peers[1]!, { type: 'interested' });
    await waitFor(() => peers[1]!.wire.peerInterested, { what: 'interested again' });
    peers[2]!.wire.close('gone');
    expect(peers[1]!.wire.amChoking).toBe(false);
  });

  it('serves the requests of an unchoked peer, and not those of a choked one or for a piece we lack', async () => {
    const [open, choked] = [await remote(1), await remote(2)];
    send(open, { type: 'interested' });
    await waitFor(() => open.heard.includes('unchoke'), { what: 'the unchoke' });
    // Refused: a piece we lack (piece 1), and a block past the end is the torrent's to refuse.
    send(open, { type: 'request', index: 1, begin: 0, length: BLOCK_SIZE });
    send(choked, { type: 'request', index: 0, begin: 0, length: BLOCK_SIZE });
    send(open, { type: 'request', index: 0, begin: 0, length: BLOCK_SIZE });
    await waitFor(() => open.heard.includes('piece'), { what: 'the block' });
    expect(open.heard).toEqual(['unchoke', 'piece']);
    expect(choker.uploaded).toBe(BLOCK_SIZE);
    expect(choked.wire.uploads).toEqual([]);
  });

  it("a choke discards the peer's queued requests (BEP 3)", async () => {
    const p = await remote(1);
    send(p, { type: 'interested' });
    await waitFor(() => !p.wire.amChoking, { what: 'unchoked' });
    p.wire.uploads.push({ index: 0, begin: 0, length: BLOCK_SIZE });
    p.wire.choke();
    expect(p.wire.uploads).toEqual([]);
    // Choking twice sends one message.
    p.wire.choke();
    await waitFor(() => p.heard.includes('choke'), { what: 'the choke' });
    expect(p.heard).toEqual(['unchoke', 'choke']);
  });
});
