// Lab 8, the blockchain: the demo (`portlab lab 08`, its own three nodes at 127.0.0.2-4) and the
// check, per account, against the student's own node (the chain app) driven with `portlab chain`.
import { type ChainNodeLab, startChainNode, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, describe, it } from 'vitest';
import { portlab } from './helpers.js';

const nodes: ChainNodeLab[] = [];
const labs: TempLab[] = [];
afterAll(async () => {
  for (const node of nodes) await node.stop();
  for (const lab of labs) lab.cleanup();
});

/** A student's own node: the chain app of a temp lab, at the tests' difficulty. */
async function studentNode(): Promise<ChainNodeLab> {
  // No tracker here: neighbours are connected by hand.
  const node = await startChainNode({ tracker: false });
  nodes.push(node);
  return node;
}

async function mine(lab: ChainNodeLab, blocks: number): Promise<void> {
  const before = (await lab.api('GET', '/status')).height as number;
  await lab.api('POST', '/mine', { blocks });
  await waitFor(async () => (await lab.api('GET', '/status')).height === before + blocks, {
    what: 'blocks mined',
  });
  await waitFor(async () => !((await lab.api('GET', '/status')).mining as { running: boolean }).running, {
    what: 'the miner to stop',
  });
}

describe.concurrent('lab 08: the blockchain', () => {
  it('demo: three nodes mine, pay, recompute a hash in the shell, refuse a tampered copy, resolve a fork', async ({
    expect,
  }) => {
    const lab = await tempLab();
    labs.push(lab);
    const demo = await portlab(lab, ['lab', '08', '--lang', 'en']);
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toMatch(/A→B C: version \d+ \/portlab-chain/);
    expect(demo.out).toMatch(/B now has 1\.5 coins, on all three copies of the chain/);
    // The shell's double SHA-256 printed the block's id: the line after the command is that id.
    const id = demo.out.match(/block 2: ([0-9a-f]{64})/)?.[1];
    expect(id).toBeDefined();
    expect(demo.out).toMatch(new RegExp(`\\| tac \\|.*\\n${id}\\n✔ the same id`));
    expect(demo.out).toMatch(/BROKEN at block 2: .*Merkle/);
    expect(demo.out).toMatch(/D: misbehaving: invalid block .*bad Merkle root/);
    expect(demo.out).toMatch(
      /A drops 1 block\(s\) \([0-9a-f]{12}\) for B's branch, heavier: both are now at height 5/,
    );
  });

  it("check: mined, paid, shown, tampered, counted for the wallet's account and never for another", async ({
    expect,
  }) => {
    const [e07, e08] = await Promise.all([studentNode(), studentNode()]);
    const check = (lab: TempLab, user: string) =>
      portlab(lab, ['check', '08', '--user', user, '--lang', 'en']);
    const chain = (lab: TempLab, ...args: string[]) => portlab(lab, ['chain', ...args, '--lang', 'en']);

    const [fresh, remote] = await Promise.all([
      check(e07, 'e07'),
      // The class server cannot see a student's node (its API is loopback only): said, exit 2.
      portlab(e07, ['check', '08', '--server', '127.0.0.1:1', '--user', 'e07', '--lang', 'en']),
    ]);
    expect(remote).toMatchObject({
      code: 2,
      out: expect.stringMatching(
        /lab 08's work is on your own node: npx portlab check 08 --user e07 \(no --server\)/,
      ),
    });
    expect(fresh.code).toBe(1);
    expect(fresh.out).toMatch(
      /✘ bind your node's wallet to your account: npx portlab chain wallet --user e07/,
    );

    expect((await chain(e07, 'wallet', '--user', 'e07')).out).toMatch(/bound to the account e07/);
    // Another account's claim on this node is refused; a name that is not an account too.
    expect(await chain(e07, 'wallet', '--user', 'e08')).toMatchObject({
      code: 1,
      out: expect.stringMatching(/this node's wallet is e07's/),
    });
    expect((await chain(e07, 'wallet', '--user', '../x')).out).toMatch(/not an account name/);

    expect(await e08.api('POST', '/owner', { user: 'e08' })).toMatchObject({ owner: 'e08' });
    const e08Address = (await e08.api('GET', '/wallet')).address as string;
    await mine(e07, 2);
    expect(await e07.api('POST', '/send', { address: e08Address, amount: '2' })).toMatchObject({
      txid: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const half = await check(e07, 'e07');
    expect(half.code).toBe(1);
    expect(half.out).toMatch(/✔ 2 block\(s\) mined by your wallet/);
    expect(half.out).toMatch(/✘ your payment waits in the mempool/);
    await mine(e07, 1);
    expect((await chain(e07, 'show', '1')).out).toMatch(/sha256sum/);
    expect(await e07.api('POST', '/tamper', { height: 1 })).toMatchObject({ before: '50', after: '51' });
    expect((await check(e07, 'e07')).out).toMatch(/✘ tampered: what does your node now say of its chain\?/);
    const verify = await chain(e07, 'verify');
    expect(verify.out).toMatch(/BROKEN at block 1/);
    // What still verifies is the genesis alone, said so (it printed "blocks 1-0 verify").
    expect(verify.out).toMatch(/block 0, the genesis, verifies; block 1 and the 2 after it no longer do/);

    const [done, other] = await Promise.all([check(e07, 'e07'), check(e07, 'e08')]);
    expect(done.code, done.out).toBe(0);
    expect(done.out).toMatch(/✔ coins sent to another address, in a block/);
    expect(done.out).toMatch(/✔ your copy tampered with, and your node saying where it breaks/);

    // Another account on e07's node: nothing counts, not even the blocks it sees.
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/✘ this node is e07's, not e08's/);
    expect(other.out).not.toMatch(/✔/);
    // e08 received coins and saw e07's blocks, but mined, sent, tampered nothing: still to do.
    await e08.api('POST', '/connect', { host: '127.0.0.1', port: e07.ports.chain });
    const e08Check = await check(e08, 'e08');
    expect(e08Check.code).toBe(1);
    expect(e08Check.out).toMatch(/✘ no block of the best chain pays your wallet yet/);
    expect(e08Check.out).toMatch(/✘ you have not paid a neighbour yet/);
  });
});
