/**
 * A peer started in the background (`npx portlab p2p seed FILE &`, as the lab 5 and 6 sheets do) is
 * the child of a shell that npx started: `kill $(jobs -p)` kills npx and that shell, never the peer.
 * The peer must notice that its parent is gone and stop (packages/cli/src/parent.ts), not seed on
 * with nobody to stop it. Here the parent is a plain `sh` that started the peer with `&`: killed
 * with SIGTERM, as `kill` does, it leaves the peer to init (or to a subreaper).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './apps.js';

let lab: TempLab;
const orphans: number[] = [];

beforeAll(async () => {
  lab = await tempLab();
});

afterAll(() => {
  for (const pid of orphans) if (alive(pid)) process.kill(pid, 'SIGKILL');
  lab.cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a p2p peer (or a watcher) whose parent is killed', () => {
  for (const command of ['seed', 'get', 'watch'] as const) {
    it(`${command === 'watch' ? '' : 'p2p '}${command} stops once its parent is gone`, async () => {
      const data = path.join(lab.dir, `orphan-${command}.bin`);
      writeFileSync(data, randomBytes(100_000));
      // `get` needs the .torrent only (the file never arrives: no tracker, no peer): made by seed's
      // sibling `create` first.
      const args =
        command === 'watch'
          ? ['watch'] // follows the transcripts until Ctrl-C (commands/watch.ts)
          : command === 'seed'
            ? ['p2p', 'seed', data]
            : ['p2p', 'get', `${data}.torrent`, '--out', path.join(lab.dir, 'got')];
      if (command === 'get') {
        const create = spawn(process.execPath, [CLI, 'p2p', 'create', data], { env: lab.env });
        await new Promise((resolve) => create.once('exit', resolve));
      }
      // sh prints the peer's pid ($!), then waits for it: the peer's parent is sh, as under npx.
      const quoted = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
      const parent = spawn('sh', ['-c', `${quoted} >/dev/null 2>&1 & echo $!; wait`], { env: lab.env });
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      await waitFor(() => /^\d+\n/.test(out), { what: 'sh to start the peer' });
      const peer = Number(out.trim());
      orphans.push(peer);
      // Running, as a seed or a download waiting for peers.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(alive(peer)).toBe(true);
      parent.kill('SIGTERM');
      await waitFor(() => !alive(peer), {
        timeoutMs: 20_000, // polled each second; generous on a loaded machine
        what: `the orphaned 'portlab ${args.join(' ')}' (pid ${peer}) to exit`,
      });
    });
  }
});
