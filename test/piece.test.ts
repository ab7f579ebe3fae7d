import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { Client } from 'basic-ftp';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './apps.js';

/**
 * The swarm section end to end: the real lab (`portlab up`) on free ports, a real swarm
 * (`portlab p2p swarm`, 4 seeding peers with an upload cap each), real downloads (`portlab p2p get`,
 * and basic-ftp against the FTP server), and the page in headless Chromium.
 */

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`swarm tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const outputDir = fileURLToPath(new URL('./test-output/', import.meta.url));
/** 4 MiB: 256 pieces of 16 KiB, so every peer has many pieces to send. */
const FILE_SIZE = 4 * 1024 * 1024;
const PIECES = 256;
/** Each seed's upload cap: slow enough for the downloads to overlap (and draw the mesh), a few s each. */
const SEED_RATE = '512kB/s';

let lab: TempLab;
let browser: Browser;
let page: Page;
const children: ChildProcess[] = [];

/** `portlab ARGS…`, stopped at the end if still running. */
function portlab(...args: string[]): CliRun {
  const run = runCli(lab, ...args);
  children.push(run.child);
  return run;
}

/** `portlab p2p get`, into its own folder; resolves with the port its peer listens on. */
async function get(
  torrent: string,
  name: string,
  ...options: string[]
): Promise<{ run: CliRun; node: string }> {
  const run = portlab('p2p', 'get', torrent, '--out', path.join(lab.dir, name), ...options);
  await waitFor(() => /this peer listens on (\S+)/.test(run.output()), {
    timeoutMs: 60_000,
    what: `p2p get ${name} to start:\n${run.output()}`,
  });
  return { run, node: /this peer listens on (\S+)/.exec(run.output())![1]! };
}

const finished = async (run: CliRun) => {
  expect(await run.exit, run.output()).toBe(0);
};

// What the functions run in the page use (this package's TypeScript has no DOM library).
interface Element {
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): Element | null };

beforeAll(async () => {
  if (!hasChromium) return;
  lab = await tempLab();
  mkdirSync(outputDir, { recursive: true });
  const up = portlab('up');
  await waitFor(() => /all services listening/.test(up.output()), {
    timeoutMs: 100_000, // as startLab: a hang bound on a busy machine
    what: `portlab up:\n${up.output()}`,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1366, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`page console: ${m.text()}`));
  await page.goto(`http://127.0.0.1:${lab.ports.http}/lab`);
  await page.locator('.status[data-state="live"]').waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  // The swarm and `portlab up` stop on Ctrl-C; `portlab up`, started first, is stopped last.
  for (const child of children.reverse()) {
    if (child.exitCode !== null) continue;
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  lab?.cleanup();
});

describe.skipIf(!hasChromium)('the swarm section in headless Chromium', () => {
  let torrent: string;

  it('fills the piece bar with the 4 colours of the 4 seeds, and lists what each sent', async () => {
    const file = path.join(lab.dir, 'lesson.bin');
    writeFileSync(file, randomBytes(FILE_SIZE));
    const swarm = portlab('p2p', 'swarm', file, '--peers', '4', '--rate', SEED_RATE);
    await waitFor(() => swarm.output().includes('download it with'), {
      timeoutMs: 60_000,
      what: `the swarm to start:\n${swarm.output()}`,
    });
    torrent = `${file}.torrent`;

    const { run, node } = await get(torrent, 'first');
    await finished(run);
    const download = page.locator(`article.download[data-node="${node}"][data-complete="true"]`);
    await download.waitFor();
    await expect(page.locator('article.download').count()).resolves.toBe(1);
    const bar = download.locator('svg.pieces');
    await expect(bar.getAttribute('data-have')).resolves.toBe(String(PIECES));
    // Every cell filled, each with one of 4 colours and 4 letters: one per seed.
    await expect(bar.locator('.piece.got').count()).resolves.toBe(PIECES);
    const attribute = (selector: string, name: string) =>
      bar
        .locator(selector)
        .evaluateAll((all: Element[], n: string) => all.map((e) => e.getAttribute(n)), name);
    expect(new Set(await attribute('.piece', 'data-from'))).toEqual(new Set(['A', 'B', 'C', 'D']));
    expect(new Set(await attribute('.piece rect', 'fill')).size).toBe(4);
    const sources = download.locator('.legend-peers tbody tr');
    await expect(sources.count()).resolves.toBe(4);
    // Each row: its letter, the seed's address, a non-zero number of pieces; all together, the file.
    const pieces = await sources.locator('td:nth-child(3)').allTextContents();
    expect(pieces.map(Number).every((n) => n > 0)).toBe(true);
    expect(pieces.map(Number).reduce((a, b) => a + b)).toBe(PIECES);
    await expect(download.locator('.moves li.joined').count()).resolves.toBe(4);
    await download.screenshot({ path: path.join(outputDir, 'swarm-pieces.png') });
  });

  it('draws a mesh while downloaders share pieces with each other as well as with the seeds', async () => {
    // Started together, so that they overlap even on a busy machine: each downloader dials the seeds
    // and the downloaders that announced before it, which dialled the seeds: those both connect and
    // are connected to, as peers are. Their own upload cap keeps them sharing for a few seconds.
    const downloads = await Promise.all(
      ['second', 'third', 'fourth'].map((name) => get(torrent, name, '--rate', SEED_RATE)),
    );
    // The page says mesh, with 2 nodes or more that both connect and are connected to, among the
    // 4 seeds and the downloaders: each its own node, though the seeds share a process.
    await page.waitForFunction(() => {
      const graph = document.querySelector('svg.graph');
      return (
        document.querySelector('.shape')?.getAttribute('data-shape') === 'mesh' &&
        Number(graph?.getAttribute('data-peers')) >= 2 &&
        Number(graph?.getAttribute('data-nodes')) >= 4 + 2
      );
    });
    await page.locator('#connections').screenshot({ path: path.join(outputDir, 'swarm-mesh.png') });
    for (const { run } of downloads) await finished(run);
    await expect(page.locator('article.download').count()).resolves.toBe(4);
    for (const { node } of downloads) {
      // The newest download of that address: a later `p2p get` may take the port an earlier one left.
      await page
        .locator(`article.download[data-node="${node}"]`)
        .first()
        .and(page.locator('[data-complete="true"]'))
        .waitFor();
    }
  });

  it('compares the last FTP download (one source) with the last torrent download (several)', async () => {
    const ftp = new Client();
    await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'alice', password: 'wonderland' });
    await ftp.uploadFrom(path.join(lab.dir, 'lesson.bin'), 'lesson.bin');
    await ftp.downloadTo(path.join(lab.dir, 'from-ftp.bin'), 'lesson.bin');
    ftp.close();
    const chart = page.locator('.chart[data-rows="2"]');
    await chart.waitFor();
    // The FTP time runs from RETR to the client's next word or its close (shown "≥ …" until then):
    // wait for the close to reach the page.
    await chart.locator('tr[data-kind="ftp"][data-confirmed="true"]').waitFor();
    await expect(chart.locator('tr[data-kind="ftp"]').getAttribute('data-sources')).resolves.toBe('1');
    expect(
      Number(await chart.locator('tr[data-kind="p2p"]').getAttribute('data-sources')),
    ).toBeGreaterThanOrEqual(4);
    // Both rows name the file, its size as the CLI writes it (4.2 MB) and the sources, then a time and a rate.
    for (const kind of ['ftp', 'p2p']) {
      await expect(chart.locator(`tr[data-kind="${kind}"]`).textContent()).resolves.toMatch(
        /lesson\.bin \(4\.2 MB\), \d+ source\(s\)\s*\d+(\.\d)? m?s\s*\d+(\.\d)? [kMG]?B\/s$/,
      );
    }
    await page.locator('#swarm').screenshot({ path: path.join(outputDir, 'swarm-section.png') });
    await page.screenshot({ path: path.join(outputDir, 'swarm-dashboard.png'), fullPage: true });
  });
});
