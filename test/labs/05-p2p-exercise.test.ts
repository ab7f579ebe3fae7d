// Lab 5's check against the exercise done the way the sheet tells a student (e07) to do it, in the
// running lab (`portlab up`), with the sheet's own commands: `curl -T` to put the file on the FTP
// server, `portlab p2p create`, four `portlab p2p seed ... --user e07 &`, `portlab p2p get --user e07`,
// two `p2p get` at once ("you" and "neighbour"), and an FTP download resumed with `curl -C -`. (The demo's own run is checked in 05-p2p.test.ts.)
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { freePortRange, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, startLab } from './helpers.js';

const bin = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const SIZE = 8_000_000;

let lab: TempLab;
let running: { stop(): Promise<void> };
const seeders: ChildProcess[] = [];
beforeAll(async () => {
  // Passive data ports of our own, free now: never the lab's 8200-8299, which a running lab may hold.
  lab = await tempLab({ files: { passivePorts: await freePortRange(10) } });
  await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2' });
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
async function seed(torrent: string, user = 'e07'): Promise<void> {
  const child = spawn(process.execPath, [bin, 'p2p', 'seed', torrent, '--rate', '1MB/s', '--user', user], {
    env: lab.env,
  });
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

const check = (user: string) => portlab(lab, ['check', '05', '--user', user, '--lang', 'en']);

describe('lab 05: the check against the exercise done with the sheet commands', () => {
  it("unfinished, then done after e07's swarm download, e07's peers both client and server, e07's FTP resume; e08's and alice's work never counts for e07", async () => {
    const before = await check('e07');
    expect(before.code, before.out).toBe(1);
    expect(before.out).toContain(
      '✘ no FTP download has been resumed where it stopped yet (logged in as e07)',
    );

    const file = path.join(lab.dir, 'myfile.bin');
    writeFileSync(file, randomBytes(SIZE));
    const ftp = `ftp://127.0.0.1:${lab.ports.ftp}`;
    await curl(['-T', file, `${ftp}/`, '-u', 'e07:e07-Pass1']);

    // Part 2: the swarm. p2p create writes myfile.bin.torrent beside the file.
    const created = await portlab(lab, ['p2p', 'create', file]);
    expect(created.code, created.out).toBe(0);
    const torrent = `${file}.torrent`;
    await Promise.all([seed(torrent), seed(torrent), seed(torrent), seed(torrent)]);
    // A classmate's download (announced as e08), and one announced for nobody: not e07's.
    for (const [dir, user] of [
      ['e08', ['--user', 'e08']],
      ['nobody', []],
    ] as const) {
      const run = await portlab(lab, ['p2p', 'get', torrent, '--out', path.join(lab.dir, dir), ...user]);
      expect(run.code, run.out).toBe(0);
    }
    const notYet = await check('e07');
    expect(notYet.out).toContain('✘ none of your peers (--user e07) has completed a download');
    expect((await check('e08')).out).toContain(
      '✔ a BitTorrent download completed, in a swarm of at least 3 peers',
    );

    const out = path.join(lab.dir, 'p2p');
    const got = await portlab(lab, ['p2p', 'get', torrent, '--out', out, '--user', 'e07']);
    expect(got.code, got.out).toBe(0);
    expect(readFileSync(path.join(out, 'myfile.bin')).equals(readFileSync(file))).toBe(true);

    const halfway = await check('e07');
    expect(halfway.code, halfway.out).toBe(1);
    expect(halfway.out).toContain('✔ a BitTorrent download completed, in a swarm of at least 3 peers');

    // Part 4: two downloaders at once; the later one finds the earlier one at the tracker and they
    // trade pieces, so a peer both receives (client) and sends (server): its announces say both.
    const both = await Promise.all(
      ['you', 'neighbour'].map((dir) =>
        portlab(lab, [
          'p2p',
          'get',
          torrent,
          '--out',
          path.join(lab.dir, dir),
          '--rate',
          '1MB/s',
          '--user',
          'e07',
        ]),
      ),
    );
    for (const run of both) expect(run.code, run.out).toBe(0);
    const shared = await check('e07');
    expect(shared.out).toContain('✔ one of your peers both received and sent pieces (client and server)');
    expect(shared.out).toContain('✘ no FTP download has been resumed where it stopped yet');

    // Part 3: a download cut half-way (as when the server stopped), then resumed with `curl -C -`,
    // which sends REST with the size already on disk (RFC 3659 §5). First alice does it: not e07's.
    const cut = path.join(lab.dir, 'cut.bin');
    await curl(['-T', file, `${ftp}/`, '-u', 'alice:wonderland']);
    for (const login of ['alice:wonderland', 'e07:e07-Pass1']) {
      await curl(['-o', cut, `${ftp}/myfile.bin`, '-u', login]);
      truncateSync(cut, SIZE / 2);
      await curl(['-C', '-', '-o', cut, `${ftp}/myfile.bin`, '-u', login]);
      expect(statSync(cut).size).toBe(SIZE);
      expect(readFileSync(cut).equals(readFileSync(file))).toBe(true);
      if (login.startsWith('alice')) {
        expect((await check('e07')).out).toContain('✘ no FTP download has been resumed');
        expect((await check('alice')).out).toContain('✔ an FTP download resumed after a cut');
      }
    }

    const done = await check('e07');
    expect(done.out).toContain('✔ an FTP download resumed after a cut');
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  }, 180_000);
});
