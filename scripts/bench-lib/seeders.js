/**
 * Seeding peers in a child process, for the benchmarks (scripts/bench/p2p.js, webseed.js): the
 * downloader under test keeps the parent's core to itself. `startSeeders` forks this file, which
 * then seeds until the parent says stop.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PeerNode, parseMetainfo } from '../../packages/bittorrent/dist/index.js';
import { Transcript } from '../../packages/transcript/dist/index.js';

export const HOST = '127.0.0.1';

/** A peer on a free port of 127.0.0.1, uploading at most `uploadRate` bytes/s (0: no cap). */
export function peer(logDir, uploadRate) {
  return new PeerNode({
    host: HOST,
    port: 0,
    transcript: new Transcript('peer', 0, { logDir }),
    ...(uploadRate ? { uploadRate } : {}),
  });
}

/** Child mode: N seeders of one file, until the parent says stop. */
async function runSeeders([torrentFile, dataFile, count, rate, logDir]) {
  const meta = parseMetainfo(readFileSync(torrentFile));
  const nodes = [];
  for (let i = 0; i < Number(count); i++) {
    const node = peer(logDir, Number(rate) || undefined);
    await node.listen();
    await node.add(meta, dataFile, { create: false });
    nodes.push(node);
  }
  process.send('ready');
  process.on('message', async () => {
    await Promise.all(nodes.map((n) => n.close()));
    process.exit(0);
  });
}

/** `count` seeders of `dataFile` (described by `torrentFile`), each capped at `rate`; returns `stop`. */
export async function startSeeders({ torrentFile, dataFile, logDir }, count, rate) {
  const child = fork(
    new URL(import.meta.url).pathname,
    ['--seeders', torrentFile, dataFile, String(count), String(rate), logDir],
    { stdio: 'inherit' },
  );
  // A child that fails before it is ready says why on stderr; the bench stops rather than wait.
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) =>
      reject(new Error(`the seeders exited with code ${code} before they were ready`)),
    );
  });
  return async () => {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  };
}

if (process.argv[2] === '--seeders') await runSeeders(process.argv.slice(3));
