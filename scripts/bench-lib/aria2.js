/**
 * aria2c as the benchmarks' reference client (scripts/bench/p2p.js, webseed.js): one torrent into
 * `dir`, on 127.0.0.1 only (no DHT, local discovery, PEX nor IPv6), exiting once it has the file.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { aria2cLocalArgs } from '../../packages/testkit/dist/index.js';

/** Downloads `torrentFile` into `dir`, then deletes it; resolves with the seconds it took. */
export async function aria2Download(torrentFile, dir) {
  const started = performance.now();
  const child = spawn(
    'aria2c',
    [
      ...aria2cLocalArgs(27000 + Math.floor(Math.random() * 1000), '127.0.0.1'),
      `--dir=${dir}`,
      '--seed-time=0',
      '--console-log-level=error',
      '--file-allocation=none',
      torrentFile,
    ],
    { stdio: 'ignore' },
  );
  const code = await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`aria2c exited with ${code}`);
  return (performance.now() - started) / 1000;
}
