import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { Block, type Transaction } from 'bitcoinjs-lib';
import { afterEach, describe, expect, test } from 'vitest';
import { newWallet, type Wallet } from '../src/keys.js';
import { FrameReader, frame, MAX_PAYLOAD } from '../src/p2p/messages.js';
import { ChainNode } from '../src/p2p/node.js';
import { COIN } from '../src/params.js';
import { mineSync } from '../src/pow.js';
import { Chain, EASY, mineOn, pay, testVersion } from './helpers.js';

const nodes: ChainNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.close();
    n.chain.close();
  }
});

async function startNode(opts: { dir?: string; transcript?: Transcript } = {}): Promise<ChainNode> {
  const chain = opts.dir ? Chain.open(opts.dir, EASY) : new Chain(EASY);
  const node = new ChainNode({ chain, ...(opts.transcript ? { transcript: opts.transcript } : {}) });
  await node.listen(0);
  nodes.push(node);
  return node;
}

const tips = (ns: ChainNode[]) => new Set(ns.map((n) => n.chain.tip.id));
const balance = (n: ChainNode, w: Wallet) => n.chain.coinsOf(w.script).reduce((a, c) => a + c.value, 0n);

describe('p2p', () => {
  test("a neighbour's chain as it showed it: its fork off ours, its tampered block and the next refused, kept once it is dropped", async () => {
    const [x, y] = [await startNode(), await startNode()];
    const [xw, yw] = [newWallet(), newWallet()];
    for (let i = 0; i < 3; i++) mineOn(x.chain, xw);
    // y mined its own block 1 first: x's block 1 is a fork, as heavy, and y keeps the one it saw first.
    mineOn(y.chain, yw);
    const tampered = x.chain.tamper(2);
    await y.connect('127.0.0.1', x.port);
    await waitFor(() => y.disconnected.length > 0, { what: 'y to drop x' });
    const [view, ...others] = y.peerChains();
    expect(others).toEqual([]);
    expect(view?.dropped).toMatch(/misbehaving/);
    expect(view?.tip).toBe(x.chain.tip.id);
    expect(view?.blocks.map((b) => [b.height, b.id, Boolean(b.refused), b.ours])).toEqual([
      [3, x.chain.best[3]!.id, true, false],
      [2, tampered.id, true, false],
      [1, x.chain.best[1]!.id, false, false],
      [0, x.chain.best[0]!.id, false, true],
    ]);
    expect(view?.blocks[1]?.refused).toMatch(/bad Merkle root/);
    expect(y.chain.tip.id).toBe(y.chain.best[1]!.id);
    expect(y.chain.best[1]!.id).not.toBe(x.chain.best[1]!.id);
  });

  test('four nodes on loopback converge on blocks and transactions; transcript lines name each message', async () => {
    const logDir = mkdtempSync(path.join(tmpdir(), 'chain-log-'));
    const transcript = new Transcript('chain', 0, { logDir });
    const ns = [await startNode({ transcript }), await startNode(), await startNode(), await startNode()];
    // A line: 0 - 1 - 2 - 3, so blocks need relaying through every hop.
    for (let i = 1; i < 4; i++) await ns[i]!.connect('127.0.0.1', ns[i - 1]!.port);
    const alice = newWallet();
    const bob = newWallet();
    for (let i = 0; i < 3; i++) mineOn(ns[0]!.chain, alice);
    await waitFor(() => tips(ns).size === 1 && ns[3]!.chain.height === 3, { what: 'four nodes at height 3' });
    // getaddr/addr: node 3, which dialled only node 2, has heard of node 1 from it.
    await waitFor(() => ns[3]!.known.has(`127.0.0.1:${ns[1]!.port}`), { what: 'an addr naming node 1' });

    // Alice pays Bob at node 0; node 3 mines the transaction in.
    const tx = pay(ns[0]!.chain, alice, bob, 5n * COIN);
    ns[0]!.chain.acceptTx(tx);
    ns[0]!.broadcastTx(tx);
    await waitFor(() => ns[3]!.chain.mempool.txs.has(tx.getId()), { what: 'the tx at node 3' });
    mineOn(ns[3]!.chain, bob);
    await waitFor(() => tips(ns).size === 1 && ns[0]!.chain.height === 4, { what: 'four nodes at height 4' });
    for (const n of ns) expect(balance(n, bob)).toBe(5n * COIN + 50n * COIN + 10_000n);
    transcript.flush();
    const log = readdirSync(logDir)
      .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
      .join('');
    expect(log).toMatch(/"dir":"S","line":"version 70016 \/portlab-chain:0\.1\.0\/ height 0"/);
    expect(log).toMatch(/"line":"inv block 00[0-9a-f]{14}…"/);
    expect(log).toMatch(/"line":"getdata block 00[0-9a-f]{14}…"/);
  });

  test('a fork resolves to the heavier chain; a restart loses nothing', async () => {
    const dirA = mkdtempSync(path.join(tmpdir(), 'chain-a-'));
    let a = await startNode({ dir: dirA });
    const b = await startNode();
    const alice = newWallet();
    const bob = newWallet();
    // Apart, both mine: a 1 block, b 2 blocks on the same genesis.
    const aBlock = mineOn(a.chain, alice);
    mineOn(b.chain, bob);
    mineOn(b.chain, bob);
    await a.connect('127.0.0.1', b.port);
    await waitFor(() => a.chain.tip.id === b.chain.tip.id, { what: 'a to reorg to b' });
    expect(a.chain.height).toBe(2);
    expect(balance(a, alice)).toBe(0n);
    // The lighter block stays known on a side branch.
    expect(a.chain.accept(aBlock).status).toBe('duplicate');
    const tip = a.chain.tip.id;
    await a.close();
    a.chain.close();
    nodes.splice(nodes.indexOf(a), 1);
    a = await startNode({ dir: dirA });
    expect(a.chain.tip.id).toBe(tip);
    expect(a.chain.entries.size).toBe(4);
  });

  test('bad input is refused and not stored; a repeat offender is disconnected', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chain-bad-'));
    const node = await startNode({ dir });
    const alice = newWallet();
    const helper = new Chain(EASY);
    mineOn(helper, alice);
    const stored = () => statSync(path.join(dir, 'blk00000.dat')).size;

    // Invalid proof of work, sent twice: refused each time, disconnected the second.
    const weak = helper.template(alice.script);
    for (weak.nonce = 0; weak.checkProofOfWork(); weak.nonce++);
    let peer = await handshake(node.port);
    peer.send('block', Buffer.from(weak.toBuffer()));
    const bad2 = mineSync(helper.template(alice.script));
    bad2.merkleRoot = Buffer.alloc(32, 1);
    for (bad2.nonce = 0; !bad2.checkProofOfWork(); bad2.nonce++);
    peer.send('block', Buffer.from(bad2.toBuffer())); // a bad Merkle root
    await peer.closed;
    expect(node.disconnected.at(-1)?.reason).toMatch(/misbehaving: invalid block .*Merkle/);
    expect(node.chain.height).toBe(0);
    expect(stored()).toBe(0);

    // A bad checksum: the message is dropped (the valid block inside is not taken).
    peer = await handshake(node.port);
    const good = helper.tip.raw;
    const framed = frame('block', good);
    framed[20] = (framed[20] as number) ^ 0xff;
    peer.socket.write(framed);
    peer.send('ping', Buffer.alloc(8, 7));
    await peer.waitFor('pong');
    expect(node.chain.height).toBe(0);

    // A wrong magic (mainnet's f9beb4d9): disconnected at once.
    peer.socket.write(frame('block', good, Buffer.from('f9beb4d9', 'hex')));
    await peer.closed;
    expect(node.disconnected.at(-1)?.reason).toMatch(/wrong magic f9beb4d9/);

    // An oversized message: refused from its header, before the payload is read.
    peer = await handshake(node.port);
    const head = frame('block', Buffer.alloc(0));
    head.writeUInt32LE(MAX_PAYLOAD + 1, 16);
    peer.socket.write(head);
    await peer.closed;
    expect(node.disconnected.at(-1)?.reason).toMatch(/oversized message/);

    // A spend of a missing output, and a bad signature, inside otherwise valid blocks.
    const bob = newWallet();
    peer = await handshake(node.port);
    peer.send('block', good);
    await waitFor(() => node.chain.height === 1, { what: 'the good block' });
    const sizeAfterGood = stored();
    const spend = pay(helper, alice, bob, COIN);
    spend.ins[0]!.hash = Buffer.alloc(32, 9);
    peer.send('block', withTx(helper, alice.script, spend));
    const forged = pay(helper, alice, bob, COIN);
    (forged.outs[0] as { value: bigint }).value = 40n * COIN;
    peer.send('block', withTx(helper, alice.script, forged));
    await peer.closed;
    expect(node.disconnected.at(-1)?.reason).toMatch(/bad signature/);
    // Remembered as invalid: the weak proof of work, the missing input, the bad signature; not the bad
    // Merkle root, whose header may be a good block's (a body changed on the way).
    expect(node.chain.invalid.size).toBe(3);
    expect(node.chain.invalid.has(bad2.getId())).toBe(false);
    expect([...node.chain.invalid.values()].join('\n')).toMatch(/missing or already spent/);
    expect(node.chain.height).toBe(1);
    expect(stored()).toBe(sizeAfterGood);
  });
});

test('malformed payloads of every command are refused without stopping the node', async () => {
  const node = await startNode();
  const helper = new Chain(EASY);
  const alice = newWallet();
  // A block on genesis whose coinbase claims its height with a 5-byte number (over CScriptNum's 4).
  const odd = helper.template(alice.script);
  odd.transactions![0]!.ins[0]!.script = Buffer.from('0501020304050b706f72746c6162', 'hex');
  odd.merkleRoot = Block.calculateMerkleRoot(odd.transactions!);
  const payloads: [string, Buffer][] = [
    ['version', Buffer.from('0100')],
    ['inv', Buffer.from('fd', 'hex')],
    ['inv', Buffer.from('ffffffffffffffffff', 'hex')],
    ['getdata', Buffer.from('02010000', 'hex')],
    ['getheaders', Buffer.alloc(3)],
    ['headers', Buffer.from('01', 'hex')],
    ['block', Buffer.alloc(79)],
    ['block', Buffer.alloc(200, 0xff)],
    ['block', Buffer.from(mineSync(odd).toBuffer())],
    ['tx', Buffer.from('0100000001', 'hex')],
    // Counts no payload can hold (a varint of 2^53-1 transactions, 2^32-1 inputs): refused, not allocated.
    ['block', Buffer.concat([helper.tip.raw.subarray(0, 80), Buffer.from('ffffffffffffff1f00', 'hex')])],
    ['tx', Buffer.from('01000000feffffffff', 'hex')],
    // A command we do not speak (Bitcoin Core ignores them too).
    ['sendcmpct', Buffer.alloc(9)],
    ['addr', Buffer.from('fe00000001', 'hex')],
    ['ping', Buffer.alloc(0)],
  ];
  for (const [command, payload] of payloads) {
    const peer = await handshake(node.port);
    peer.send(command, payload);
    peer.send('ping', Buffer.alloc(8, 1));
    // Either answered (the bad message was dropped and scored) or disconnected; never a dead node.
    await Promise.race([peer.waitFor('pong'), peer.closed]);
    peer.socket.destroy();
  }
  expect([...node.chain.invalid.values()].join('\n')).toMatch(/BIP 34/);
  const last = await handshake(node.port);
  last.send('ping', Buffer.alloc(8, 2));
  await last.waitFor('pong');
  expect(node.chain.height).toBe(0);
  last.socket.destroy();
});

function withTx(chain: Chain, payTo: Buffer, tx: Transaction): Buffer {
  const block = chain.template(payTo);
  block.transactions!.push(tx);
  block.merkleRoot = Block.calculateMerkleRoot(block.transactions!);
  return Buffer.from(mineSync(block).toBuffer());
}

/** A raw client speaking our framing: does the handshake and records the commands it receives. */
async function handshake(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  const reader = new FrameReader();
  const got: string[] = [];
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let m = reader.next(); m; m = reader.next()) got.push(m.command);
  });
  await new Promise((r) => socket.once('connect', r));
  const send = (command: string, payload?: Buffer) => socket.write(frame(command, payload));
  send('version', testVersion(port, 3));
  await waitFor(() => got.includes('version') && got.includes('verack'), { what: 'the handshake' });
  send('verack');
  return {
    socket,
    send,
    closed,
    got,
    waitFor: (cmd: string) => waitFor(() => got.includes(cmd), { what: cmd }),
  };
}
