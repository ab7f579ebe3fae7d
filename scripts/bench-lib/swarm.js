/**
 * What both swarm benchmarks (scripts/bench/p2p.js, webseed.js) set up before they measure: a file
 * of random bytes to share, and a tracker on a free port of 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createTracker } from '../../packages/bittorrent/dist/index.js';
import { Transcript } from '../../packages/transcript/dist/index.js';
import { HOST } from './seeders.js';

/** Writes `size` random bytes to `file`, 1 MiB at a time (never the whole file in memory). */
export async function writeRandomFile(file, size) {
  const stream = createWriteStream(file);
  for (let written = 0; written < size; written += 1 << 20) stream.write(randomBytes(1 << 20));
  await new Promise((resolve) => stream.end(resolve));
}

/** A tracker logging to `logDir`: the server (to close at the end) and its announce URL. */
export async function startTracker(logDir) {
  const tracker = createTracker({ transcript: new Transcript('tracker', 0, { logDir }) });
  await new Promise((resolve) => tracker.server.listen(0, HOST, resolve));
  return { tracker, announce: `http://${HOST}:${tracker.server.address().port}/announce` };
}
