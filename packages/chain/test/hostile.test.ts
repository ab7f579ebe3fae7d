/**
 * A student's node is reachable by the whole class: what an untrusted peer can send it, over a real
 * socket, and what the node does. Each attack ends with the node still answering another peer.
 */
import { connect, type Socket } from 'node:net';
import { waitFor } from '@portlab/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encodeInv,
  FrameReader,
  frame,
  INV_BLOCK,
  MAX_INV,
  MAX_PAYLOAD,
  MAX_USER_AGENT,
} from '../src/p2p/messages.js';
import { ChainNode, MAX_BLOCKS_ASKED, MAX_PEERS_PER_ADDRESS, type NodeOptions } from '../src/p2p/node.js';
import { MAX_SEND_BUFFER } from '../src/p2p/peer.js';
import { Chain, EASY, testVersion } from './helpers.js';

/** The most inv items one message can hold (36 bytes each): MAX_INV's 50,000 do not fit in MAX_PAYLOAD. */
const MOST_ITEMS = Math.floor((MAX_PAYLOAD - 5) / 36);

const nodes: ChainNode[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const n of nodes.splice(0)) {
    await n.close();
    n.chain.close();
  }
});

async function startNode(opts: Partial<NodeOptions> = {}): Promise<ChainNode> {
  const node = new ChainNode({ chain: new Chain(EASY), ...opts });
  await node.listen(0);
  nodes.push(node);
  return node;
}

/** A raw peer: counts the messages it reads, does the version handshake when asked. */
async function rawPeer(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const reader = new FrameReader();
  const got: string[] = [];
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let m = reader.next(); m; m = reader.next()) got.push(m.command);
  });
  await new Promise((r) => socket.once('connect', r));
  const send = (command: string, payload?: Buffer) => socket.write(frame(command, payload));
  return {
    socket,
    got,
    send,
    closed: () => closed,
    async handshake() {
      send('version', testVersion(port, 5, '/hostile/'));
      await waitFor(() => got.includes('verack'), { what: 'the handshake' });
      send('verack');
    },
  };
}

/** The node still serves: a fresh peer does the handshake and gets a pong. */
async function stillServes(node: ChainNode): Promise<void> {
  const peer = await rawPeer(node.port);
  await peer.handshake();
  peer.send('ping', Buffer.alloc(8, 9));
  await waitFor(() => peer.got.includes('pong'), { what: 'a pong' });
  peer.socket.destroy();
}

describe('an untrusted peer', () => {
  it(`an inv or getdata of ${MAX_INV} items does not fit in a message: closed from its header`, async () => {
    const node = await startNode();
    const reasons: string[] = [];
    node.on('peer-closed', (_p, reason: string) => reasons.push(reason));
    const peer = await peer0(node);
    const items = Array.from({ length: MAX_INV }, () => ({ type: INV_BLOCK, hash: Buffer.alloc(32) }));
    peer.send('getdata', encodeInv(items));
    await waitFor(() => peer.closed(), { what: 'the peer to be closed' });
    expect(reasons).toEqual([
      `oversized message: getdata of ${MAX_INV * 36 + 3} bytes, limit ${MAX_PAYLOAD}`,
    ]);
    await stillServes(node);
  });

  it('a getdata of 27,000 blocks to a peer that does not read: served as it reads, never piled up in memory', async () => {
    const node = await startNode();
    const peer = await peer0(node);
    peer.socket.pause(); // reads nothing from now on
    const genesis = Buffer.from(node.chain.best[0]!.block.getHash());
    const items = Array.from({ length: MOST_ITEMS }, () => ({ type: INV_BLOCK, hash: genesis }));
    peer.send('getdata', encodeInv(items));
    peer.send('getheaders', Buffer.alloc(4 + 1 + 32)); // and its next messages wait behind it
    peer.send('ping', Buffer.alloc(8, 1));
    const server = [...node.peers][0]!;
    let most = 0;
    const sample = setInterval(() => {
      most = Math.max(most, server.socket.writableLength);
    }, 5);
    await new Promise((r) => setTimeout(r, 500));
    most = Math.max(most, server.socket.writableLength);
    // Without a bound: 27,805 copies of the block (8 MB) queued at once, more with each getdata.
    expect(most).toBeLessThan(MAX_SEND_BUFFER + 2 * node.chain.best[0]!.raw.length + 200_000);
    peer.socket.resume();
    await waitFor(() => peer.got.includes('pong'), { what: 'the pong after every block', timeoutMs: 60_000 });
    clearInterval(sample);
    expect(peer.got.filter((c) => c === 'block')).toHaveLength(MOST_ITEMS);
    // In order: every block, then the headers, then the pong.
    expect(peer.got.slice(-2)).toEqual(['headers', 'pong']);
    await stillServes(node);
  }, 90_000);

  it('invs of 27,000 made-up blocks, again and again: asked for up to MAX_BLOCKS_ASKED, not remembered without end', async () => {
    const node = await startNode();
    const peer = await peer0(node);
    for (let round = 0; round < 3; round++) {
      const items = Array.from({ length: MOST_ITEMS }, (_, i) => {
        const hash = Buffer.alloc(32);
        hash.writeUInt32LE(round * MOST_ITEMS + i, 0);
        return { type: INV_BLOCK, hash };
      });
      peer.send('inv', encodeInv(items));
    }
    peer.send('ping', Buffer.alloc(8, 2));
    await waitFor(() => peer.got.includes('pong'), { what: 'a pong' });
    expect([...node.peers][0]!.asked.size).toBe(MAX_BLOCKS_ASKED);
    await stillServes(node);
  });

  it(`a user agent over ${MAX_USER_AGENT} bytes (BIP 14): refused, not kept, and the handshake never completes`, async () => {
    const node = await startNode({ handshakeTimeoutMs: 500 });
    const peer = await rawPeer(node.port);
    const version = (userAgent: string) => testVersion(node.port, 6, userAgent);
    peer.send('version', version('x'.repeat(500_000)));
    await waitFor(() => peer.closed(), { what: 'the peer to be dropped at the handshake timeout' });
    expect(peer.got).not.toContain('verack');
    // 256 bytes is still a user agent.
    const fine = await rawPeer(node.port);
    fine.send('version', version('y'.repeat(MAX_USER_AGENT)));
    await waitFor(() => fine.got.includes('verack'), { what: 'the verack' });
    expect([...node.peers].find((p) => p.handshake.gotVersion)?.userAgent).toHaveLength(MAX_USER_AGENT);
  });

  it('a connection that never says version is dropped after the handshake timeout', async () => {
    const node = await startNode({ handshakeTimeoutMs: 300 });
    const reasons: string[] = [];
    node.on('peer-closed', (_p, reason: string) => reasons.push(reason));
    const silent = await rawPeer(node.port);
    await waitFor(() => silent.closed(), { what: 'the silent connection to be closed' });
    expect(reasons).toEqual(['no version handshake within 0.3 s']);
    await stillServes(node);
  });

  it(`takes at most ${MAX_PEERS_PER_ADDRESS} connections from one address; the next is closed at once`, async () => {
    const node = await startNode();
    const held = [];
    for (let i = 0; i < MAX_PEERS_PER_ADDRESS; i++) held.push(await rawPeer(node.port));
    await waitFor(() => node.peers.size === MAX_PEERS_PER_ADDRESS, { what: 'the first connections' });
    const extra = await rawPeer(node.port);
    await waitFor(() => extra.closed(), { what: 'the extra connection to be closed' });
    expect(held.some((p) => p.closed())).toBe(false);
    held[0]!.socket.destroy();
    await waitFor(() => node.peers.size === MAX_PEERS_PER_ADDRESS - 1, { what: 'a slot to free' });
    await stillServes(node);
  });
});

describe('FrameReader', () => {
  it('joins the chunks of a message once, however many it came in (a peer trickling a 1 MB block)', () => {
    const message = frame('block', Buffer.alloc(200_000, 7));
    const reader = new FrameReader();
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      for (let at = 0; at < message.length; at += 100) reader.push(message.subarray(at, at + 100));
      const m = reader.next();
      expect(m?.payload.length).toBe(200_000);
      // Before: one join per chunk, 2,000 copies of a growing buffer (200 MB copied for 200 kB).
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      concat.mockRestore();
    }
  });
});

/** A peer past the version handshake. */
async function peer0(node: ChainNode) {
  const peer = await rawPeer(node.port);
  await peer.handshake();
  await waitFor(() => [...node.peers][0]?.ready, { what: 'the node to see the handshake' });
  return peer;
}
