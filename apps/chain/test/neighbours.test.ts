/**
 * Nodes meet through the lab tracker: each announces under SHA-1("portlab-chain-regtest") and dials
 * those listed; blocks then flow between them, not through the tracker.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTracker } from '@portlab/bittorrent';
import { Chain, ChainNode, labParams, mineSync, newWallet } from '@portlab/chain';
import { waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, expect, test } from 'vitest';
import { CHAIN_INFO_HASH, meet } from '../src/neighbours.js';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

test('three nodes find each other through the tracker, then a block reaches all of them', async () => {
  expect(CHAIN_INFO_HASH.toString('hex')).toBe(
    (await import('node:crypto')).createHash('sha1').update('portlab-chain-regtest').digest('hex'),
  );
  const logDir = mkdtempSync(path.join(tmpdir(), 'chain-tracker-'));
  const { server } = createTracker({ transcript: new Transcript('tracker', 0, { logDir }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  const trackerUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`;

  const nodes: ChainNode[] = [];
  for (let i = 0; i < 3; i++) {
    const node = new ChainNode({ chain: new Chain(labParams(8)) });
    await node.listen(0);
    closers.push(() => node.close());
    nodes.push(node);
  }
  // Each announces in turn: the first finds nobody, the next ones find those before them.
  for (const node of nodes) await meet(node, { trackerUrl, ownHosts: ['127.0.0.1'] });
  expect(nodes[0]!.peers.size).toBe(2);
  const block = mineSync(nodes[2]!.chain.template(newWallet().script));
  nodes[2]!.chain.accept(Buffer.from(block.toBuffer()));
  await waitFor(() => nodes.every((n) => n.chain.tip.id === block.getId()), {
    what: 'the block at every node',
  });

  // A tracker that does not answer: the node waits and tries again later, nothing breaks.
  const lonely = new ChainNode({ chain: new Chain(labParams(8)) });
  expect(await meet(lonely, { trackerUrl: 'http://127.0.0.1:1/announce', ownHosts: [] })).toBe(60);
});
