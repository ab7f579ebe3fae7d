#!/usr/bin/env node
/**
 * `npm run bench -- p2p`: how much a swarm speeds a download up.
 *   1. 100 MB from 1 seeder, then from 4 seeders, each capped at the same upload rate: the speed-up
 *      (at most 4x: four uplinks instead of one);
 *   2. 100 MB from 1 uncapped seeder over loopback, three times: the raw throughput of our peer wire
 *      (each run, and the median);
 *   3. the same capped swarms downloaded by aria2c, for reference. aria2c's start-to-completion
 *      time holds about 4 s of its own 1-second ticks (tracker answer to first dial, retrying in
 *      plain after its encrypted handshake is refused, announcing completion, exiting), so its
 *      transfer is also timed from the first piece our seeders sent it to the last, as the
 *      reference figures (aria2c from aria2c seeders) are.
 * Seeders run in a child process (scripts/bench-lib/seeders.js), the downloader here: two cores.
 * The test file is made in a temporary folder and deleted at the end. Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMetainfo, formatBytes, parseMetainfo } from '../../packages/bittorrent/dist/index.js';
import { aria2Download } from '../bench-lib/aria2.js';
import { peer, startSeeders } from '../bench-lib/seeders.js';
import { startTracker, writeRandomFile } from '../bench-lib/swarm.js';

const SIZE = 100 * 1024 * 1024;
const RATE = 10_000_000; // bytes per second per seeder
const RAW_RUNS = 3;

/** Our peer downloads the file: seconds from start to completion, and from first to last block. */
async function ourDownload(work, label) {
  const node = peer(work.logDir);
  await node.listen();
  const target = path.join(work.dir, `${label}.bin`);
  const started = performance.now();
  const torrent = await node.add(work.meta, target, { create: true });
  let firstPiece = 0;
  torrent.once('piece', () => {
    firstPiece = performance.now();
  });
  await new Promise((resolve) => torrent.once('done', resolve));
  const ended = performance.now();
  const sources = torrent.sources.size;
  await node.close();
  rmSync(target);
  return { total: (ended - started) / 1000, transfer: (ended - firstPiece) / 1000, sources };
}

/** Seconds from the first to the last `piece N sent` the seeders logged since `since` (a Date.now()). */
function sentSpan(logDir, since) {
  const times = ['peer.1.ndjson', 'peer.ndjson']
    .map((name) => path.join(logDir, name))
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean))
    .map((text) => JSON.parse(text))
    .filter((e) => e.type === 'line' && /^piece \d+ sent$/.test(e.line) && Date.parse(e.ts) >= since)
    .map((e) => Date.parse(e.ts));
  return (Math.max(...times) - Math.min(...times)) / 1000;
}

async function aria2(work, label) {
  const since = Date.now();
  const total = await aria2Download(work.torrentFile, path.join(work.dir, `aria2-${label}`));
  return { total, since };
}

async function prepare() {
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-bench-p2p-'));
  const logDir = path.join(dir, 'log');
  const dataFile = path.join(dir, 'bench.bin');
  await writeRandomFile(dataFile, SIZE);
  const { tracker, announce } = await startTracker(logDir);
  const torrentFile = `${dataFile}.torrent`;
  writeFileSync(torrentFile, await createMetainfo(dataFile, { announce }));
  const meta = parseMetainfo(readFileSync(torrentFile));
  return { dir, logDir, dataFile, torrentFile, meta, tracker };
}

async function measure(work, count, rate, download, label) {
  const stop = await startSeeders(work, count, rate);
  let result;
  try {
    result = await download(work, label);
  } finally {
    await stop();
  }
  // The seeders' transcript is complete once they stopped.
  if (result.since !== undefined) result.transfer = sentSpan(work.logDir, result.since);
  return result;
}

async function main() {
  const work = await prepare();
  const mb = (seconds) => `${(SIZE / 1e6 / seconds).toFixed(1)} MB/s`;
  const cap = `${formatBytes(RATE)}/s`;
  console.log(
    `p2p bench: ${formatBytes(SIZE)} in ${work.meta.pieceHashes.length} pieces of ${work.meta.pieceLength / 1024} KiB`,
  );
  try {
    const one = await measure(work, 1, RATE, ourDownload, 'one');
    console.log(`  1 seeder  at ${cap}: ${one.total.toFixed(2)} s (${mb(one.total)})`);
    const four = await measure(work, 4, RATE, ourDownload, 'four');
    console.log(
      `  4 seeders at ${cap} each: ${four.total.toFixed(2)} s (${mb(four.total)}), ${four.sources} sources`,
    );
    console.log(
      `  speed-up: ${(one.total / four.total).toFixed(2)}x start to completion, ` +
        `${(one.transfer / four.transfer).toFixed(2)}x first piece to last (target 3.6x, limit 4x)`,
    );
    // One sample of 100 MB lasts a third of a second, so a busy moment of the machine weighs much:
    // three downloads (each from a fresh seeder process), every one printed, and their median.
    const raws = [];
    for (let i = 0; i < RAW_RUNS; i++) raws.push(await measure(work, 1, 0, ourDownload, `raw${i}`));
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const total = median(raws.map((r) => r.total));
    console.log(
      `  1 uncapped seeder over loopback: ${raws.map((r) => r.total.toFixed(2)).join(' / ')} s, ` +
        `median ${total.toFixed(2)} s (${mb(total)}; target 300 MB/s); ` +
        `first piece to last, median ${mb(median(raws.map((r) => r.transfer)))}`,
    );
    if (spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status !== 0) {
      console.log('  aria2c: not installed, reference figures skipped (apt-get install aria2)');
      return;
    }
    const ariaOne = await measure(work, 1, RATE, aria2, 'one');
    const ariaFour = await measure(work, 4, RATE, aria2, 'four');
    console.log(
      `  aria2c from the same swarms: 1 seeder ${ariaOne.total.toFixed(2)} s, 4 seeders ${ariaFour.total.toFixed(2)} s, ` +
        `speed-up ${(ariaOne.total / ariaFour.total).toFixed(2)}x start to completion, ` +
        `${(ariaOne.transfer / ariaFour.transfer).toFixed(2)}x first piece to last`,
    );
    const ariaRaw = await measure(work, 1, 0, aria2, 'raw');
    console.log(
      `  aria2c from 1 uncapped seeder of ours: ${ariaRaw.total.toFixed(2)} s (${mb(ariaRaw.total)}), ` +
        `first piece to last ${ariaRaw.transfer.toFixed(2)} s (${mb(ariaRaw.transfer)})`,
    );
  } finally {
    work.tracker.server.close();
    rmSync(work.dir, { recursive: true, force: true });
  }
}

await main();
