/**
 * Independent verification: Debian's python3-bitcoinlib (not our code, not bitcoinjs-lib) reads what
 * we produce. Bitcoin Core is not packaged for Debian 12, so it cannot play this part here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Block } from 'bitcoinjs-lib';
import { describe, expect, test } from 'vitest';
import { newWallet } from '../src/keys.js';
import { ChainNode } from '../src/p2p/node.js';
import { COIN } from '../src/params.js';
import { Chain, EASY, mineOn, pay } from './helpers.js';

const PY = '/usr/bin/python3';
const here = path.dirname(new URL(import.meta.url).pathname);
const hasLib = await new Promise<boolean>((resolve) => {
  if (!existsSync(PY)) return resolve(false);
  execFile(PY, ['-c', 'import bitcoin.core, bitcoin.messages'], (err) => resolve(!err));
});
if (!hasLib)
  console.warn(
    'python3-bitcoinlib is not installed (apt-get install python3-bitcoinlib): interop tests skipped',
  );

function py(script: string, args: string[], input?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PY,
      [path.join(here, 'python', script), ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${script}: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A chain of 4 blocks with two payments (one spending the change of the other). */
function sampleChain(): Chain {
  const chain = new Chain(EASY);
  const alice = newWallet();
  const bob = newWallet();
  mineOn(chain, alice);
  mineOn(chain, alice);
  chain.acceptTx(pay(chain, alice, bob, 7n * COIN));
  chain.acceptTx(pay(chain, alice, bob, 60n * COIN));
  mineOn(chain, bob);
  chain.acceptTx(pay(chain, bob, alice, COIN));
  mineOn(chain, bob);
  return chain;
}

const hexes = (chain: Chain) => chain.best.slice(1).map((e) => e.raw.toString('hex'));

describe.skipIf(!hasLib)('python-bitcoinlib verifies our chain', () => {
  test('it deserialises blocks and transactions, checks proof of work, Merkle roots and every signature', async () => {
    const chain = sampleChain();
    const r = await py('verify_chain.py', [], JSON.stringify({ blocks: hexes(chain) }));
    expect(r).toMatchObject({ ok: true, inputs: 4 });
    expect(r.ids).toEqual(chain.best.slice(1).map((e) => e.id));
    const ours = chain.best.slice(1).flatMap((e) => (e.block.transactions ?? []).map((t) => t.getId()));
    expect(r.txids).toEqual(ours);
  });

  test('it refuses what we refuse: a tampered amount (Merkle root), a forged signature', async () => {
    const chain = sampleChain();
    chain.tamper(3);
    const tampered = await py('verify_chain.py', [], JSON.stringify({ blocks: hexes(chain) }));
    expect(tampered).toMatchObject({ ok: false, error: expect.stringMatching(/merkle/i) });
    expect(chain.verify()).toMatchObject({ ok: false, breaks: { height: 3 } });

    // A signature byte flipped, block re-rooted and re-mined: the header is sound, the script is not.
    const good = new Chain(EASY);
    const alice = newWallet();
    mineOn(good, alice);
    const tx = pay(good, alice, newWallet(), COIN);
    const block = good.template(alice.script);
    const script = Buffer.from(tx.ins[0]!.script);
    script[10] = (script[10] as number) ^ 1;
    tx.ins[0]!.script = script;
    block.transactions!.push(tx);
    block.merkleRoot = Block.calculateMerkleRoot(block.transactions!);
    const { mineSync } = await import('../src/pow.js');
    const raw = Buffer.from(mineSync(block).toBuffer());
    expect(good.accept(raw)).toMatchObject({ status: 'invalid' });
    const forged = await py(
      'verify_chain.py',
      [],
      JSON.stringify({ blocks: [good.tip.raw.toString('hex'), raw.toString('hex')] }),
    );
    expect(forged).toMatchObject({
      ok: false,
      error: expect.stringMatching(/VerifyScript|Signature|Script/i),
    });
  });

  test('a node written with bitcoin.messages does the version handshake with ours and downloads the headers', async () => {
    const chain = sampleChain();
    const node = new ChainNode({ chain });
    const port = await node.listen(0);
    try {
      const r = await py('headers_client.py', ['127.0.0.1', String(port)]);
      expect(r.seen).toEqual(expect.arrayContaining(['version', 'verack', 'headers']));
      expect(r.ids).toEqual(chain.best.slice(1).map((e) => e.id));
      expect(r.pow_ok).toBe(true);
      expect(r).toMatchObject({ user_agent: '/portlab-chain:0.1.0/', their_height: 4 });
    } finally {
      await node.close();
    }
  });
});
