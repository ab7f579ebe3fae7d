/**
 * The dashboard's chain panel draws each neighbour's chain beside the lab node's: a classmate that
 * tampered with its block 2 shows blocks 2 and 3 in red. Real processes (the web app, two chain apps)
 * and headless Chromium; skipped without it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, launchChromium } from './browser.js';

if (!hasChromium)
  console.warn(`chain dashboard test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const labs: TempLab[] = [];
const apps: ChildProcess[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  for (const app of apps) {
    app.kill('SIGTERM');
    await new Promise((r) => app.once('exit', r));
  }
  for (const lab of labs) lab.cleanup();
});

async function node(web: boolean): Promise<TempLab> {
  const lab = await tempLab();
  labs.push(lab);
  lab.env.PORTLAB_CHAIN_ZERO_BITS = '8';
  lab.env.PORTLAB_CHAIN_TRACKER = 'http://127.0.0.1:9/announce';
  apps.push(fork(path.join(REPO_ROOT, 'apps/chain/dist/main.js'), [], { env: lab.env, stdio: 'pipe' }));
  if (web)
    apps.push(fork(path.join(REPO_ROOT, 'apps/web/dist/main.js'), [], { env: lab.env, stdio: 'pipe' }));
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${lab.ports[web ? 'http' : 'chain-api']}/${web ? 'api/chain' : 'status'}`).then(
        (r) => r.ok,
        () => false,
      ),
    { what: 'the apps' },
  );
  return lab;
}

const post = (lab: TempLab, p: string, body: unknown) =>
  fetch(`http://127.0.0.1:${lab.ports['chain-api']}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<Record<string, unknown>>);

it.skipIf(!hasChromium)(
  "draws a neighbour's chain beside ours, the tampered block and the next in red",
  async () => {
    const [ours, theirs] = await Promise.all([node(true), node(false)]);
    await post(theirs, '/mine', { blocks: 3 });
    await waitFor(
      async () =>
        (
          (await (await fetch(`http://127.0.0.1:${theirs.ports['chain-api']}/status`)).json()) as {
            height: number;
          }
        ).height === 3,
      { what: 'three blocks' },
    );
    await post(theirs, '/tamper', { height: 2 });
    await post(ours, '/connect', { host: '127.0.0.1', port: theirs.ports.chain });

    browser = await launchChromium();
    const page = await browser.newPage({ locale: 'en-GB' });
    page.setDefaultTimeout(30_000);
    await page.goto(`http://127.0.0.1:${ours.ports.http}/lab`);
    await page.keyboard.press('8');
    const row = page.locator(`#chain .chain-peer[data-listen="127.0.0.1:${theirs.ports.chain}"]`);
    // Headers come first, then the blocks: wait for block 2 refused and block 1 taken (ours, not a fork).
    await row.locator('.chain-card.tampered[data-height="2"]').waitFor();
    await row.locator('.chain-card:not(.fork)[data-height="1"]').waitFor();
    const cards = await row
      .locator('.chain-card')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-height'), e.classList.contains('tampered')]),
      );
    // Oldest to newest: genesis and block 1 (ours too), then 2 tampered and 3 built on it, both red.
    expect(cards).toEqual([
      ['0', false],
      ['1', false],
      ['2', true],
      ['3', true],
    ]);
    await expect(row.locator('.chain-card[data-height="2"]').getAttribute('title')).resolves.toMatch(
      /bad Merkle root/,
    );
  },
);
