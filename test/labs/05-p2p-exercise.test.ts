// Lab 5's check against the exercise done the way the sheet tells a student to do it, in the
// running lab (`portlab up`), with the sheet's own commands: `curl -T` to put the file on the FTP
// server, `portlab p2p create`, four `portlab p2p seed ... &`, `portlab p2p get`, two `p2p get` at
// once ("you" and "neighbour"), and an FTP download resumed with `curl -C -`. (The demo's own run is checked in 05-p2p.test.ts.)
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { freePortRange, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portlab, startLab } from './helpers.js';

const bin = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const SIZE = 8_000_000;

let lab: TempLab;
let running: { stop(): Promise<void> };
const seeders: ChildProcess[] = [];
beforeAll(async () => {
  // Passive data ports of our own, free now: never the lab's 8200-8299, which a running lab may hold.
  lab = await tempLab({ files: { passivePorts: await freePortRange(10) } });
  running = await startLab(lab);
}, 120_000);
afterAll(async () => {
  for (const child of seeders) child.kill('SIGINT');
  await running.stop();
  lab.cleanup();
});

function curl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', ...args], (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );
}

/** `npx portlab p2p seed TORRENT --rate 1MB/s &`: resolves once the peer says it is seeding. */
async function seed(torrent: string): Promise<void> {
  const child = spawn(process.execPath, [bin, 'p2p', 'seed', torrent, '--rate', '1MB/s'], { env: lab.env });
  seeders.push(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`p2p seed exited (${child.exitCode}): ${out}`);
      return out.includes('seeding ');
    },
    { timeoutMs: 30_000, what: 'p2p seed to start' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; it said: ${out}`);
  });
}

describe('lab 05: the check against the exercise done with the sheet commands', () => {
  it('unfinished, then done after a swarm download from 4 peers and an FTP download resumed', async () => {
    const before = await portlab(lab, ['check', '05', '--lang', 'en']);
    expect(before.code, before.out).toBe(1);
    expect(before.out).toContain('✘ no FTP download has been resumed where it stopped yet');

    const file = path.join(lab.dir, 'myfile.bin');
    writeFileSync(file, randomBytes(SIZE));
    const ftp = `ftp://127.0.0.1:${lab.ports.ftp}`;
    await curl(['-T', file, `${ftp}/`, '-u', 'alice:wonderland']);

    // Part 2: the swarm. p2p create writes myfile.bin.torrent beside the file.
    const created = await portlab(lab, ['p2p', 'create', file]);
    expect(created.code, created.out).toBe(0);
    const torrent = `${file}.torrent`;
    await Promise.all([seed(torrent), seed(torrent), seed(torrent), seed(torrent)]);
    const out = path.join(lab.dir, 'p2p');
    const got = await portlab(lab, ['p2p', 'get', torrent, '--out', out]);
    expect(got.code, got.out).toBe(0);
    expect(readFileSync(path.join(out, 'myfile.bin')).equals(readFileSync(file))).toBe(true);

    const halfway = await portlab(lab, ['check', '05', '--lang', 'en']);
    expect(halfway.code, halfway.out).toBe(1);
    expect(halfway.out).toContain('✔ a BitTorrent download from at least 3 peers');

    // Part 4: two downloaders at once; the later one finds the earlier one at the tracker and dials
    // it, so the earlier one is client (of the seeders) and server (of its neighbour) at once.
    const both = await Promise.all(
      ['you', 'neighbour'].map((dir) =>
        portlab(lab, ['p2p', 'get', torrent, '--out', path.join(lab.dir, dir), '--rate', '1MB/s']),
      ),
    );
    for (const run of both) expect(run.code, run.out).toBe(0);
    const shared = await portlab(lab, ['check', '05', '--lang', 'en']);
    expect(shared.out).toContain('✔ a peer that both accepted and opened connections');
    expect(shared.out).toContain('✘ no FTP download has been resumed where it stopped yet');

    // Part 3: a download cut half-way (as when the server stopped), then resumed with `curl -C -`,
    // which sends REST with the size already on disk (RFC 3659 §5).
    const cut = path.join(lab.dir, 'cut.bin');
    await curl(['-o', cut, `${ftp}/myfile.bin`, '-u', 'alice:wonderland']);
    truncateSync(cut, SIZE / 2);
    await curl(['-C', '-', '-o', cut, `${ftp}/myfile.bin`, '-u', 'alice:wonderland']);
    expect(statSync(cut).size).toBe(SIZE);
    expect(readFileSync(cut).equals(readFileSync(file))).toBe(true);

    const done = await portlab(lab, ['check', '05', '--lang', 'en']);
    expect(done.out).toContain('✔ an FTP download resumed after a cut');
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  }, 120_000);
});
