import { closeSync, mkdtempSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Block } from 'bitcoinjs-lib';
import { describe, expect, test } from 'vitest';
import { newWallet } from '../src/keys.js';
import { BLOCK_REWARD, COIN, DEFAULT_FEE, GENESIS_ID, zeroBitsOf } from '../src/params.js';
import { mineSync } from '../src/pow.js';
import { coinbaseTx, paymentTx } from '../src/tx.js';
import { Chain, EASY, mineOn, pay } from './helpers.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'chain-'));

describe('chain', () => {
  test('starts at regtest genesis; mining pays the coinbase; a payment moves coins', () => {
    const chain = new Chain(EASY);
    expect(chain.tip.id).toBe(GENESIS_ID);
    expect(zeroBitsOf(EASY.bits)).toBe(8);
    const alice = newWallet();
    const bob = newWallet();
    mineOn(chain, alice);
    expect(chain.height).toBe(1);
    const tx = pay(chain, alice, bob, 3n * COIN);
    chain.acceptTx(tx);
    mineOn(chain, alice);
    const sum = (w: typeof alice) => chain.coinsOf(w.script).reduce((a, c) => a + c.value, 0n);
    expect(sum(bob)).toBe(3n * COIN);
    // Alice: two rewards, minus what she sent, the fee coming back to her as miner.
    expect(sum(alice)).toBe(2n * BLOCK_REWARD - 3n * COIN);
    expect(chain.mempool.txs.size).toBe(0);
    expect(chain.verify().ok).toBe(true);
  });

  test('the mempool refuses a double spend', () => {
    const chain = new Chain(EASY);
    const alice = newWallet();
    mineOn(chain, alice);
    const coins = chain.coinsOf(alice.script);
    chain.acceptTx(pay(chain, alice, newWallet(), COIN));
    // Same coin again, to someone else: refused.
    const again = paymentTx(alice, coins, newWallet().script, 2n * COIN, DEFAULT_FEE);
    expect(() => chain.acceptTx(again)).toThrow(/double spend/);
  });

  test('refuses blocks with bad proof of work, bad Merkle root, missing input, bad signature, greedy coinbase', () => {
    const chain = new Chain(EASY);
    const alice = newWallet();
    const mallory = newWallet();
    mineOn(chain, alice);

    // Invalid proof of work: a nonce that does not meet the target.
    const weak = chain.template(alice.script);
    for (weak.nonce = 0; weak.checkProofOfWork(); weak.nonce++);
    expect(chain.accept(Buffer.from(weak.toBuffer()))).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/proof of work/),
    });

    // Bad Merkle root: a transaction changed after the header was mined.
    const good = mineSync(chain.template(alice.script));
    (good.transactions?.[0]?.outs[0] as { value: bigint }).value = 1n;
    expect(chain.accept(Buffer.from(good.toBuffer()))).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/Merkle/),
    });

    // A spend of a missing output.
    const tx = pay(chain, alice, mallory, COIN);
    tx.ins[0]!.hash = Buffer.alloc(32, 7);
    const missing = withTx(chain, alice.script, tx);
    expect(chain.accept(missing)).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/missing or already spent/),
    });

    // A bad signature: Mallory signs a spend of Alice's coin with her own key... whose hash is not the address.
    const coin = chain.coinsOf(alice.script)[0]!;
    const stolen = paymentTx(mallory, [coin], mallory.script, COIN, DEFAULT_FEE);
    expect(() => chain.acceptTx(stolen)).toThrow(/public key does not match/);
    // ...or Alice's key signing, then the amount changed: the signature no longer verifies.
    const altered = pay(chain, alice, mallory, COIN);
    (altered.outs[0] as { value: bigint }).value = 2n * COIN;
    expect(() => chain.acceptTx(altered)).toThrow(/bad signature/);
    expect(chain.accept(withTx(chain, mallory.script, altered))).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/bad signature/),
    });

    // A coinbase paying itself more than the reward.
    const greedy = chain.template(mallory.script);
    greedy.transactions![0] = coinbaseTx(2, mallory.script, BLOCK_REWARD + 1n);
    greedy.merkleRoot = Block.calculateMerkleRoot(greedy.transactions!);
    expect(chain.accept(Buffer.from(mineSync(greedy).toBuffer()))).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/more than the reward/),
    });

    expect(chain.height).toBe(1);
  });

  test('the heavier branch wins: a reorg, and orphans taken when their parent comes', () => {
    const a = new Chain(EASY);
    const b = new Chain(EASY);
    const alice = newWallet();
    const bob = newWallet();
    const shared = mineOn(a, alice);
    b.accept(shared);
    const a2 = mineOn(a, alice);
    const b2 = mineOn(b, bob);
    const b3 = mineOn(b, bob);
    expect(a.height).toBe(2);
    // b3 arrives first: an orphan (parent unknown); b2 then connects both, and a switches branch.
    expect(a.accept(b3).status).toBe('orphan');
    const r = a.accept(b2);
    expect(r.status).toBe('accepted');
    expect(a.tip.id).toBe(b.tip.id);
    expect(a.height).toBe(3);
    // Alice's block 2 reward is gone with her branch.
    expect(a.coinsOf(alice.script).length).toBe(1);
    // The lighter branch stays known: sending it again changes nothing.
    expect(a.accept(a2).status).toBe('duplicate');
  });

  test('a restart loses nothing; a torn write at the end is cut; a tampered copy is found', () => {
    const dir = tmp();
    const alice = newWallet();
    let chain = Chain.open(dir, EASY);
    for (let i = 0; i < 3; i++) mineOn(chain, alice);
    const tip = chain.tip.id;
    chain.close();
    const file = path.join(dir, 'blk00000.dat');
    const size = statSync(file).size;
    // A crash half-way through the next block: magic, a length, a few bytes.
    const fd = openSync(file, 'a');
    writeSync(fd, Buffer.from('fabfb5da2001000001020304', 'hex'));
    closeSync(fd);
    chain = Chain.open(dir, EASY);
    expect(chain.tip.id).toBe(tip);
    expect(chain.storeRepairs.join()).toMatch(/torn write of 12 byte/);
    expect(statSync(file).size).toBe(size);
    const original = chain.best[2]!.raw;
    const { id } = chain.tamper(2);
    const v = chain.verify();
    expect(v).toMatchObject({
      ok: false,
      breaks: { height: 2, id, reason: expect.stringMatching(/Merkle/) },
    });
    chain.close();
    truncateSync(path.join(dir, 'blocks.idx'), 40 * 3 - 5);
    chain = Chain.open(dir, EASY);
    // The index lost an entry; the block is re-indexed from the data file, then found tampered.
    expect(chain.broken[0]).toMatchObject({ id, reason: expect.stringMatching(/Merkle/) });
    expect(chain.height).toBe(1);
    // The good copy of block 2, from a peer: taken (same id, but a changed body does not condemn the
    // header), and block 3, waiting for it, with it.
    expect(chain.accept(original).status).toBe('accepted');
    expect(chain.tip.id).toBe(tip);
    expect(chain.verify().ok).toBe(true);
    chain.close();
    const repaired = statSync(file).size;
    chain = Chain.open(dir, EASY);
    expect(chain.tip.id).toBe(tip);
    expect(chain.verify().ok).toBe(true);
    chain.close();
    // Opening again appends nothing: the blocks read from the store stay where they are.
    expect(statSync(file).size).toBe(repaired);
  });
});

function withTx(chain: Chain, payTo: Buffer, tx: import('bitcoinjs-lib').Transaction): Buffer {
  const block = chain.template(payTo);
  block.transactions!.push(tx);
  block.merkleRoot = Block.calculateMerkleRoot(block.transactions!);
  return Buffer.from(mineSync(block).toBuffer());
}
