#!/usr/bin/env node
/**
 * `npm run bench -- webseed`: a software update delivered by a web seed (BEP 19) and by peers.
 * 100 MB downloaded by our peer (packages/bittorrent):
 *   1. from the web seed alone (zero peers): the lab's web app (apps/web, its own process) serves
 *      the file from $DATA/updates/ by Range requests, one piece per request;
 *   2. from peers alone: SEEDERS seeders, each capped at RATE (a classroom's uplinks), no web seed;
 *   3. from both at once, with the bytes each kind of source sent;
 *   4. aria2c on the same web-seeded torrent, alone and with the peers, for reference.
 * Seeders run in a child process (scripts/bench-lib/seeders.js), the web app in another, the downloader
 * here. The file is made in a temporary lab folder, deleted at the end. Prints figures; asserts nothing.
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createMetainfo, formatBytes, parseMetainfo } from '../../packages/bittorrent/dist/index.js';
import { tempLab, waitForHttp } from '../../packages/testkit/dist/index.js';
import { aria2Download } from '../bench-lib/aria2.js';
import { HOST, peer, startSeeders } from '../bench-lib/seeders.js';
import { startTracker, writeRandomFile } from '../bench-lib/swarm.js';

const SIZE = 100 * 1024 * 1024;
const SEEDERS = 2;
const RATE = 10_000_000; // bytes per second per seeder
const WEB_MAIN = new URL('../../apps/web/dist/main.js', import.meta.url).pathname;

/** Our peer downloads `meta`: seconds from start to completion, and bytes by kind of source. */
async function ourDownload(work, meta, label) {
  const node = peer(work.logDir);
  await node.listen();
  const target = path.join(work.lab.dir, `${label}.bin`);
  const started = performance.now();
  const torrent = await node.add(meta, target, { create: true });
  await new Promise((resolve) => torrent.once('done', resolve));
  const seconds = (performance.now() - started) / 1000;
  let web = 0;
  let peers = 0;
  for (const s of torrent.sources.values()) {
    if (s.address.startsWith('web ')) web += s.bytes;
    else peers += s.bytes;
  }
  await node.close();
  rmSync(target);
  return { seconds, web, peers };
}

async function prepare() {
  const lab = await tempLab();
  const logDir = path.join(lab.dataDir, 'log');
  const updates = path.join(lab.dataDir, 'updates');
  mkdirSync(updates, { recursive: true });
  const dataFile = path.join(updates, 'bench.bin');
  await writeRandomFile(dataFile, SIZE);
  const web = fork(WEB_MAIN, [], { env: lab.env, stdio: 'ignore' });
  const base = `http://${HOST}:${lab.ports.http}`;
  await waitForHttp(`${base}/healthz`, 'the web app');
  const { tracker, announce } = await startTracker(logDir);
  // The same info (same info_hash) with and without `url-list`, which lies outside it.
  const plainTorrent = path.join(lab.dir, 'plain.torrent');
  const webTorrent = path.join(lab.dir, 'web.torrent');
  writeFileSync(plainTorrent, await createMetainfo(dataFile, { announce }));
  writeFileSync(
    webTorrent,
    await createMetainfo(dataFile, { announce, urlList: [`${base}/updates/bench.bin`] }),
  );
  return {
    lab,
    logDir,
    dataFile,
    plainTorrent,
    webTorrent,
    plain: parseMetainfo(readFileSync(plainTorrent)),
    seeded: parseMetainfo(readFileSync(webTorrent)),
    tracker,
    web,
  };
}

async function main() {
  const work = await prepare();
  const line = (label, r) =>
    `  ${label.padEnd(34)} ${r.seconds.toFixed(2).padStart(6)} s (${(SIZE / 1e6 / r.seconds).toFixed(1)} MB/s)` +
    (r.web !== undefined ? `, HTTP ${formatBytes(r.web)}, peers ${formatBytes(r.peers)}` : '');
  console.log(
    `webseed bench: ${formatBytes(SIZE)} in ${work.plain.pieceHashes.length} pieces of ${work.plain.pieceLength / 1024} KiB; ` +
      `peers: ${SEEDERS} seeders at ${formatBytes(RATE)}/s each`,
  );
  try {
    console.log(line('our peer, web seed alone:', await ourDownload(work, work.seeded, 'web')));
    const seeding = { torrentFile: work.plainTorrent, dataFile: work.dataFile, logDir: work.logDir };
    const stop = await startSeeders(seeding, SEEDERS, RATE);
    try {
      console.log(line('our peer, peers alone:', await ourDownload(work, work.plain, 'peers')));
      console.log(line('our peer, web seed and peers:', await ourDownload(work, work.seeded, 'both')));
      if (spawnSync('aria2c', ['--version'], { stdio: 'ignore' }).status !== 0) {
        console.log('  aria2c: not installed, reference figures skipped (apt-get install aria2)');
        return;
      }
      console.log(
        line('aria2c, web seed and peers:', {
          seconds: await aria2Download(work.webTorrent, path.join(work.lab.dir, 'aria2-both')),
        }),
      );
    } finally {
      await stop();
    }
    console.log(
      line('aria2c, web seed alone:', {
        seconds: await aria2Download(work.webTorrent, path.join(work.lab.dir, 'aria2-web')),
      }),
    );
  } finally {
    work.tracker.server.close();
    work.web.kill('SIGTERM');
    await new Promise((resolve) => work.web.once('exit', resolve));
    work.lab.cleanup();
  }
}

await main();
