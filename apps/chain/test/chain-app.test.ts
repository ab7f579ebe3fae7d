/**
 * The chain app as students use it: real processes, `portlab chain` commands, real sockets. Two labs
 * (two students); a third node, in this process, plays the classmate who downloads a tampered copy.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Chain, ChainNode, labParams } from '@portlab/chain';
import { type ChainNodeLab, startChainNode, type TempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const cli = fileURLToPath(new URL('../../../packages/cli/bin/portlab.js', import.meta.url));
const nodes: ChainNodeLab[] = [];

/** A student's lab: its chain app, announcing to the lab's tracker (none runs: no neighbour comes by itself). */
async function startLab(): Promise<ChainNodeLab> {
  const lab = await startChainNode({ env: { LANG: 'en_US.UTF-8' } });
  nodes.push(lab);
  return lab;
}

function portlab(lab: TempLab, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, 'chain', ...args, '--lang', 'en'],
      { env: lab.env, timeout: 40_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const sh = (cmd: string): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('bash', ['-c', cmd], (err, out) => (err ? reject(err) : resolve(out))),
  );

let a: ChainNodeLab;
let b: ChainNodeLab;
beforeAll(async () => {
  [a, b] = await Promise.all([startLab(), startLab()]);
});

afterAll(async () => {
  for (const node of nodes) await node.stop();
});

describe('portlab chain', () => {
  test('mine, send to a classmate, connect, show a header whose hash the shell recomputes', async () => {
    const [wallet, mined] = await Promise.all([portlab(b, 'wallet'), portlab(a, 'mine', '--blocks', '2')]);
    const bobAddress = wallet.out.match(/address: ([mn]\w+)/)?.[1] as string;
    expect(bobAddress).toMatch(/^[mn]/);
    expect(mined.out).toMatch(/found 2\/2/);
    expect(await a.api('GET', '/wallet')).toMatchObject({ balance: { confirmed: '100' } });
    const sent = await portlab(a, 'send', bobAddress, '1.5');
    expect(sent.out).toMatch(/transaction [0-9a-f]{64}/);
    // Bad input: more than the wallet holds, an address that is not one.
    expect(await a.api('POST', '/send', { address: bobAddress, amount: '1000' })).toMatchObject({
      // In coins, as the student typed the amount (it said "… units available, 100000010000 needed").
      error: expect.stringMatching(/not enough coins: \d+(\.\d+)? available, 1000\.0001 needed/),
    });
    expect(await portlab(a, 'send', 'not-an-address', '1')).toMatchObject({
      code: 1,
      out: expect.stringMatching(/not a regtest P2PKH address/),
    });
    await portlab(a, 'mine');
    const connected = await portlab(b, 'connect', `127.0.0.1:${a.ports.chain}`);
    expect(connected.out).toMatch(/portlab-chain.*height 3/);
    await waitFor(
      async () =>
        ((await b.api('GET', '/wallet')) as { balance: { confirmed: string } }).balance.confirmed === '1.5',
      {
        what: "bob's 1.5 coins",
      },
    );
    expect(await portlab(b, 'balance')).toMatchObject({ out: expect.stringMatching(/^1\.5 coins/) });

    const shown = await portlab(b, 'show', '2');
    const id = shown.out.match(/block 2: ([0-9a-f]{64})/)?.[1];
    const command = shown.out
      .split('\n')
      .find((l) => l.includes('| tac |'))
      ?.trim() as string;
    expect(id).toMatch(/^00/);
    expect((await sh(command)).trim()).toBe(id);
  });

  test('the API refuses web pages: a request with an Origin, a POST that is not JSON, another Host name', async () => {
    const base = `http://127.0.0.1:${a.ports['chain-api']}`;
    const bob = { address: 'mwm6g85u8tuhbV8ins2MyFjBWigqt7teSz', amount: '1' };
    const fromPage = await fetch(`${base}/send`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify(bob),
    });
    expect(fromPage.status).toBe(403);
    const form = await fetch(`${base}/send`, { method: 'POST', body: JSON.stringify(bob) });
    expect(form.status).toBe(415);
    const { request } = await import('node:http');
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/status`, { headers: { host: 'evil.example:18443' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(403);
  });

  test('the API refuses a body that is not one JSON object, or over 4 kB, and goes on answering', async () => {
    const post = (body: string | Buffer) =>
      fetch(`http://127.0.0.1:${a.ports['chain-api']}/mine`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(
        async (r) => ({ status: r.status, ...((await r.json()) as { error?: string }) }),
        // The server may close while the client still sends the rest: refused all the same.
        (err: Error) => ({ status: 0, error: err.message }),
      );
    for (const bad of ['{', '[1]', '"x"', 'null', '{"blocks": 1e400}']) {
      expect(await post(bad), bad).toMatchObject({ status: 400 });
    }
    const huge = await post(Buffer.alloc(1 << 20, 0x20));
    expect([0, 413]).toContain(huge.status);
    expect(await a.api('GET', '/wallet')).toHaveProperty('address');
  });

  test('tamper: verify says where the chain breaks, and another node refuses the tampered block', async () => {
    expect(await portlab(a, 'tamper', '2')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/from 50 to 51/),
    });
    const v = await portlab(a, 'verify');
    expect(v).toMatchObject({ code: 1, out: expect.stringMatching(/BROKEN at block 2 .*Merkle/) });
    expect(v.out).toMatch(/blocks 0-1 verify; block 2 and the 1 after it no longer do/);
    expect(await b.api('POST', '/verify')).toMatchObject({ ok: true, checked: 3 });

    // A classmate's node that never saw the chain downloads it from a: block 1 is taken, block 2
    // refused (its Merkle root does not match), block 3 waits for it; asked again, a sends the same
    // tampered copy, and is disconnected as a repeat offender.
    const chain = new Chain(labParams(8));
    const node = new ChainNode({ chain });
    await node.listen(0);
    try {
      await node.connect('127.0.0.1', a.ports.chain);
      await waitFor(() => node.disconnected.length > 0, { what: 'the tampered peer to be dropped' });
      expect(chain.height).toBe(1);
      expect(node.disconnected[0]?.reason).toMatch(/misbehaving: invalid block .*bad Merkle root/);
    } finally {
      await node.close();
    }
  });
});
