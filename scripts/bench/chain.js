#!/usr/bin/env node
/**
 * `npm run bench -- chain`: the lab blockchain's three costs.
 *   1. transaction validation on one core: a block of 2,000 payments (1 P2PKH input, 2 outputs)
 *      checked as a node checks a block from a peer (ConnectBlock: inputs exist and are unspent,
 *      signature verified, amounts add up); also the same transactions taken one by one into the
 *      mempool. Target ≥ 2,000 tx/s.
 *   2. the time for a new block to reach 10 nodes on loopback (each dials 2-3 earlier ones, as a
 *      class would): from the miner accepting it to the last node having it as its tip, over 40
 *      blocks; p50 and p99. The 10 nodes share this one process (one core), so each hop waits for
 *      the others' work: a pessimistic figure. Target p99 < 200 ms.
 *   3. the miner: a worker thread hashing for 5 s at a target it will not meet; hashes per second,
 *      and the CPU the process used meanwhile (process.cpuUsage counts every thread).
 * Prints figures; asserts nothing.
 */
import { cpus, loadavg } from 'node:os';
import { Block } from 'bitcoinjs-lib';
import {
  BLOCK_REWARD,
  Chain,
  ChainNode,
  DEFAULT_FEE,
  labParams,
  Miner,
  mineSync,
  newWallet,
  paymentTx,
} from '../../packages/chain/dist/index.js';

const N_TX = 2000;
const cpuMsSince = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
console.log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared: wall-clock figures shrink with the load, CPU-time ones less)`,
);
const params = labParams(8);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

// 1. Validation.
{
  const chain = new Chain(params);
  const alice = newWallet();
  const bob = newWallet();
  // A coinbase paying N_TX outputs to alice: N_TX coins to spend.
  const template = chain.template(alice.script);
  const cb = template.transactions[0];
  cb.outs = [];
  for (let i = 0; i < N_TX; i++) cb.addOutput(alice.script, BLOCK_REWARD / BigInt(N_TX));
  template.merkleRoot = Block.calculateMerkleRoot(template.transactions);
  const first = chain.accept(Buffer.from(mineSync(template).toBuffer()));
  if (first.status !== 'accepted') throw new Error(first.reason);
  const coins = chain.coinsOf(alice.script);
  const txs = coins.map((c) => paymentTx(alice, [c], bob.script, c.value / 2n, DEFAULT_FEE));
  const block = chain.template(alice.script);
  block.transactions.push(...txs);
  block.merkleRoot = Block.calculateMerkleRoot(block.transactions);
  const raw = Buffer.from(mineSync(block).toBuffer());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = chain.accept(raw);
  const ms = performance.now() - t0;
  const cpuMs = cpuMsSince(c0);
  if (r.status !== 'accepted') throw new Error(r.reason);
  console.log(
    `tx validation, one core: a block of ${N_TX} tx checked in ${ms.toFixed(0)} ms wall = ${Math.round((N_TX * 1000) / ms)} tx/s; ${cpuMs.toFixed(0)} ms of CPU = ${Math.round((N_TX * 1000) / cpuMs)} tx per CPU-second (target ≥ 2,000/s)`,
  );

  const pool = new Chain(params);
  pool.accept(chain.best[1].raw);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (const tx of txs) pool.acceptTx(tx);
  const ms1 = performance.now() - t1;
  const cpuMs1 = cpuMsSince(c1);
  console.log(
    `tx validation, one core: ${N_TX} tx into the mempool one by one in ${ms1.toFixed(0)} ms wall = ${Math.round((N_TX * 1000) / ms1)} tx/s; ${Math.round((N_TX * 1000) / cpuMs1)} tx per CPU-second`,
  );
}

// 2. Propagation to 10 nodes.
{
  const nodes = [];
  for (let i = 0; i < 10; i++) {
    const node = new ChainNode({ chain: new Chain(params) });
    await node.listen(0);
    nodes.push(node);
  }
  for (let i = 1; i < nodes.length; i++) {
    const links = new Set([i - 1, Math.floor(Math.random() * i), Math.floor(Math.random() * i)]);
    for (const j of links) await nodes[i].connect('127.0.0.1', nodes[j].port);
  }
  const miner = newWallet();
  const times = [];
  for (let b = 0; b < 40; b++) {
    const origin = nodes[b % nodes.length];
    const block = mineSync(origin.chain.template(miner.script));
    const id = block.getId();
    const raw = Buffer.from(block.toBuffer());
    const reached = new Promise((resolve) => {
      let left = nodes.length;
      const t0 = performance.now();
      for (const n of nodes) {
        const on = (tip) => {
          if (tip.id !== id) return;
          n.chain.off('tip', on);
          if (--left === 0) resolve(performance.now() - t0);
        };
        n.chain.on('tip', on);
      }
      origin.chain.accept(raw);
    });
    times.push(await reached);
  }
  console.log(
    `block propagation to 10 nodes on loopback (${times.length} blocks): p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${quantile(times, 0.99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (target p99 < 200 ms)`,
  );
  for (const n of nodes) await n.close();
}

// 3. Miner hash rate.
{
  const chain = new Chain(labParams(60));
  const miner = new Miner();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const job = miner.mine(chain.template(newWallet().script));
  await new Promise((r) => setTimeout(r, 5000));
  const hashes = miner.progress;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  miner.stop();
  await job;
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `miner (1 worker thread): ${Math.round(hashes / secs).toLocaleString('en')} double-SHA-256/s over ${secs.toFixed(1)} s, using ${((cpuSecs / secs) * 100).toFixed(0)}% of one core (${cpus().length} cores, ${cpus()[0]?.model ?? '?'}); ${Math.round(hashes / cpuSecs).toLocaleString('en')} hashes per CPU-second`,
  );
}
