/**
 * The dashboard's chain panel reads GET /api/chain: the lab node's blocks, forks, mempool and
 * balances, from the chain app's loopback API. Real processes: the web app and the chain app.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type TempLab, tempLab, waitFor, waitForHttp } from '@portlab/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const webMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const chainMain = fileURLToPath(new URL('../../chain/dist/main.js', import.meta.url));
let lab: TempLab;
const apps: ChildProcess[] = [];

const panel = async () =>
  (await (await fetch(`http://127.0.0.1:${lab.ports.http}/api/chain`)).json()) as Record<string, unknown>;
const chainApi = (path: string, body: unknown) =>
  fetch(`http://127.0.0.1:${lab.ports['chain-api']}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  lab = await tempLab();
  lab.env.PORTLAB_CHAIN_ZERO_BITS = '8';
  apps.push(fork(webMain, [], { env: lab.env, stdio: 'pipe' }));
  await waitForHttp(`http://127.0.0.1:${lab.ports.http}/healthz`, 'the web app');
});

afterAll(async () => {
  for (const app of apps) {
    app.kill('SIGTERM');
    await new Promise((r) => app.once('exit', r));
  }
  lab.cleanup();
});

it('says the chain app is not running, then shows its blocks, a tampered one in red, and the balances', async () => {
  expect(await panel()).toEqual({ running: false });
  apps.push(fork(chainMain, [], { env: lab.env, stdio: 'pipe' }));
  await waitFor(async () => (await panel()).running === true, { what: 'the chain app' });
  expect((await chainApi('/mine', { blocks: 2 })).ok).toBe(true);
  await waitFor(async () => (await panel()).height === 2, { what: 'two blocks mined' });
  expect((await chainApi('/tamper', { height: 1 })).ok).toBe(true);
  const p = (await panel()) as {
    blocks: { height: number; tampered: boolean; id: string; prev: string }[];
    balances: { coins: string; mine: boolean }[];
    zeroBits: number;
  };
  expect(p.zeroBits).toBe(8);
  expect(p.blocks.map((b) => [b.height, b.tampered])).toEqual([
    [0, false],
    [1, true],
    [2, false],
  ]);
  expect(p.blocks[2]!.prev).toBe(p.blocks[1]!.id);
  expect(p.balances).toEqual([{ address: expect.stringMatching(/^[mn]/), coins: '100', mine: true }]);
  // Read-only: nothing that spends or mines is reachable through the web app.
  expect((await fetch(`http://127.0.0.1:${lab.ports.http}/api/chain`, { method: 'POST' })).status).toBe(404);
});
