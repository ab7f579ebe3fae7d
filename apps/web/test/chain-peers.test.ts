/**
 * GET /api/chain shows each neighbour's chain as it showed it to the lab's node (the headers and blocks
 * it sent): here a classmate's node that tampered with its block 2, so ours refuses block 2 and the
 * block built on it, which the dashboard draws in red. Real processes: the web app and two chain apps.
 */
import { type ChainNodeLab, startChainNode, waitFor } from '@portlab/testkit';
import { afterAll, expect, it } from 'vitest';

const nodes: ChainNodeLab[] = [];

afterAll(async () => {
  for (const node of nodes) await node.stop();
});

/** A lab's chain app (no tracker: the neighbour is connected by hand), and its web app if `web`. */
async function startLab(web: boolean): Promise<ChainNodeLab> {
  const node = await startChainNode({ tracker: false, web });
  nodes.push(node);
  return node;
}

interface PanelPeer {
  listen: string;
  tip: string | null;
  dropped?: string;
  blocks: {
    height: number | null;
    id: string;
    prev: string;
    nonce: number;
    refused?: string;
    ours: boolean;
  }[];
}

it("draws a neighbour's chain beside ours: its tampered block and the one after it refused", async () => {
  const [ours, theirs] = await Promise.all([startLab(true), startLab(false)]);
  const panel = async () =>
    (await (await fetch(`http://127.0.0.1:${ours.ports.http}/api/chain`)).json()) as {
      running: boolean;
      height: number;
      peerChains: PanelPeer[];
    };
  await waitFor(
    () =>
      panel().then(
        (r) => r.running,
        () => false,
      ),
    { what: 'the web app and its panel' },
  );
  expect((await panel()).peerChains).toEqual([]);

  await theirs.api('POST', '/mine', { blocks: 3 });
  await waitFor(
    async () =>
      (
        (await fetch(`http://127.0.0.1:${theirs.ports['chain-api']}/status`).then((r) => r.json())) as {
          height: number;
        }
      ).height === 3,
    { what: 'three blocks mined' },
  );
  // The classmate tampers with block 2 of their copy, then we connect to them.
  expect(await theirs.api('POST', '/tamper', { height: 2 })).toMatchObject({ before: '50', after: '51' });
  expect(await ours.api('POST', '/connect', { host: '127.0.0.1', port: theirs.ports.chain })).toMatchObject({
    startHeight: 3,
  });

  // Headers come first, then the blocks: wait until block 2 has come and been refused, block 1 taken.
  await waitFor(
    async () => {
      const blocks = (await panel()).peerChains[0]?.blocks ?? [];
      return blocks.length === 4 && Boolean(blocks[1]?.refused) && blocks[2]?.ours === true;
    },
    { what: "their chain's four blocks, block 2 refused" },
  );
  const p = await panel();
  const peer = p.peerChains[0] as PanelPeer;
  expect(peer.listen).toBe(`127.0.0.1:${theirs.ports.chain}`);
  // Newest first: 3 (built on a refused block), 2 (tampered: its Merkle root fails), 1 and 0, ours too.
  expect(peer.blocks.map((b) => [b.height, Boolean(b.refused), b.ours])).toEqual([
    [3, true, false],
    [2, true, false],
    [1, false, true],
    [0, false, true],
  ]);
  expect(peer.blocks[1]?.refused).toMatch(/bad Merkle root/);
  expect(peer.blocks[0]?.refused).toMatch(/builds on refused block/);
  expect(peer.blocks[0]?.prev).toBe(peer.blocks[1]?.id);
  expect(peer.tip).toBe(peer.blocks[0]?.id);
  // Our own chain took block 1 and stopped there.
  expect(p.height).toBe(1);
  // Read-only and public: headers, never a key.
  expect(JSON.stringify(p)).not.toMatch(/wif|privateKey/i);
});
