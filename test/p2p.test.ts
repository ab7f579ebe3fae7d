import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type createTracker, parseMetainfo } from '@portlab/bittorrent';
import { freePorts, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, startTracker } from './apps.js';

let lab: TempLab;
let tracker: ReturnType<typeof createTracker>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  lab = await tempLab();
  tracker = await startTracker(lab);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  tracker.server.close();
  lab.cleanup();
});

/** `portlab p2p ARGS…`, stopped at the end if still running. */
function p2p(...args: string[]): CliRun {
  const run = runCli(lab, 'p2p', ...args);
  children.push(run.child);
  return run;
}

function file(name: string, size: number): string {
  const full = path.join(lab.dir, name);
  writeFileSync(full, randomBytes(size));
  return full;
}

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('portlab p2p', () => {
  it('create writes FILE.torrent announcing to the lab tracker, or where -o says', async () => {
    const data = file('notes.bin', 200_000);
    const run = p2p('create', data);
    expect(await run.exit).toBe(0);
    const meta = parseMetainfo(readFileSync(`${data}.torrent`));
    expect(meta.announce).toBe(`http://127.0.0.1:${lab.ports.tracker}/announce`);
    expect(run.output()).toContain(`info_hash  ${meta.infoHash.toString('hex')}`);
    const other = p2p('create', data, '-o', path.join(lab.dir, 'other.torrent'));
    expect(await other.exit).toBe(0);
    expect(readFileSync(path.join(lab.dir, 'other.torrent'))).toEqual(readFileSync(`${data}.torrent`));
  });

  it('get downloads from every peer of a swarm and ends with a table of pieces per peer', async () => {
    const data = file('movie.bin', 2 * 1024 * 1024);
    const swarm = p2p('swarm', data, '--peers', '3', '--rate', '1MB/s');
    await waitFor(() => swarm.output().includes('download it with'), { what: 'the swarm to start' });
    expect(swarm.output()).toMatch(/3 peers seed movie\.bin/);
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'got'));
    expect(await get.exit).toBe(0);
    expect(sha256(path.join(lab.dir, 'got', 'movie.bin'))).toBe(sha256(data));
    const out = get.output();
    expect(out).toMatch(/progress 100% \(128\/128 pieces/);
    expect(out).toMatch(/^peer +client +pieces +bytes +share$/m);
    expect(out.match(/^127\.0\.0\.1:\d+ +portlab +\d+ +\d+ +\d+%$/gm)).toHaveLength(3);
    expect(out).toMatch(/complete: 128\/128 pieces from 3 peer\(s\) in \d+\.\d s/);
    swarm.child.kill('SIGINT');
    expect(await swarm.exit).toBe(0);
  });

  it('speaks French with --lang fr (a French class reads its peers in French), and refuses a language it lacks', async () => {
    const data = file('cours.bin', 1024 * 1024);
    const made = p2p('create', data, '--lang', 'fr');
    expect(await made.exit).toBe(0);
    expect(made.output()).toContain(`écrit ${data}.torrent`);
    expect(made.output()).toMatch(/morceaux +64 de 16 Kio, chacun avec son SHA-1/);
    const swarm = p2p('swarm', data, '--peers', '2', '--lang', 'fr');
    await waitFor(() => swarm.output().includes('téléchargez-le avec'), { what: 'the swarm to start' });
    expect(swarm.output()).toMatch(/2 pairs partagent cours\.bin/);
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'fr'), '--lang', 'fr');
    expect(await get.exit).toBe(0);
    const out = get.output();
    expect(out).toMatch(/ce pair écoute sur 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/progression 100 % \(64\/64 morceaux/);
    expect(out).toMatch(/^pair +client +morceaux +octets +part$/m);
    // From one seed or both: with no upload cap the first one may send every piece.
    expect(out).toMatch(/terminé : 64\/64 morceaux de [12] pair\(s\) en \d+\.\d s/);
    swarm.child.kill('SIGINT');
    expect(await swarm.exit).toBe(0);
    const bad = p2p('create', data, '--lang', 'de');
    expect(await bad.exit).toBe(1);
    expect(bad.output()).toContain("unknown language 'de': use --lang fr or --lang en");
  });

  it('seed shares a file on the port asked for, until Ctrl-C', async () => {
    const data = file('song.bin', 300_000);
    const port = lab.ports.peer;
    const seed = p2p('seed', data, '--port', String(port));
    await waitFor(() => seed.output().includes('others download it with'), { what: 'the seed to start' });
    expect(seed.output()).toContain(`on 127.0.0.1:${port}, upload cap none`);
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'got'));
    expect(await get.exit).toBe(0);
    expect(get.output()).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} +portlab +\\d+ +300000 +100%$`, 'm'));
    seed.child.kill('SIGINT');
    expect(await seed.exit).toBe(0);
  });

  it('seed --json prints one JSON line for a program (address, port, info hash, torrent) and nothing else on stdout', async () => {
    const data = file('json.bin', 200_000);
    const seed = p2p('seed', data, '--json', '--rate', '1MB/s', '--lang', 'fr');
    let stdout = '';
    seed.child.stdout!.on('data', (d) => {
      stdout += d;
    });
    await waitFor(() => stdout.endsWith('\n'), { what: `the JSON line: ${seed.output()}` });
    const meta = parseMetainfo(readFileSync(`${data}.torrent`));
    const line = JSON.parse(stdout);
    expect(line).toEqual({
      event: 'seeding',
      name: 'json.bin',
      infoHash: meta.infoHash.toString('hex'),
      torrent: `${data}.torrent`,
      file: data,
      host: '127.0.0.1',
      publicAddress: '127.0.0.1',
      address: `127.0.0.1:${line.port}`,
      port: expect.any(Number),
      have: meta.pieceHashes.length,
      pieces: meta.pieceHashes.length,
      rate: 1_000_000,
    });
    // The port it names is the one it seeds on: a download from it gets the whole file.
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'json-got'));
    expect(await get.exit).toBe(0);
    expect(get.output()).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${line.port} +portlab +\\d+ +200000 +100%$`, 'm'),
    );
    seed.child.kill('SIGINT');
    expect(await seed.exit).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('seed --json of a missing file prints no JSON, says why on stderr and exits 1', async () => {
    const seed = p2p('seed', path.join(lab.dir, 'absent.bin'), '--json');
    let stdout = '';
    seed.child.stdout!.on('data', (d) => {
      stdout += d;
    });
    expect(await seed.exit).toBe(1);
    expect(stdout).toBe('');
    expect(seed.output()).toContain('absent.bin: no such file');
  });

  it('seeds started at the same moment (pasted `p2p seed … &` lines) each get a port of their own', async () => {
    const data = file('pasted.bin', 100_000);
    await p2p('create', data).exit;
    const seeds = Array.from({ length: 4 }, () => p2p('seed', `${data}.torrent`));
    await waitFor(() => seeds.every((s) => s.output().includes('others download it with')), {
      what: `4 seeds to start: ${seeds.map((s) => s.output()).join(' | ')}`,
    });
    const ports = seeds.map((s) => /on 127\.0\.0\.1:(\d+),/.exec(s.output())?.[1]);
    expect(new Set(ports).size).toBe(4);
    for (const s of seeds) s.child.kill('SIGINT');
    for (const s of seeds) expect(await s.exit).toBe(0);
  });

  it('get with no peer to download from stops after --stall-timeout, saying what to check (no silent wait)', async () => {
    const data = file('lonely.bin', 100_000);
    expect(await p2p('create', data).exit).toBe(0); // announces to the test's tracker; nobody seeds it
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'lonely'), '--stall-timeout', '2');
    expect(await get.exit).toBe(1);
    const out = get.output();
    expect(out).toContain(
      `no piece arrived in 2 s: the tracker http://127.0.0.1:${lab.ports.tracker}/announce knows no other peer`,
    );
    expect(out).toContain(`http://127.0.0.1:${lab.ports.tracker}/announce`);
    expect(out).toMatch(/Check:[\s\S]*tracker[\s\S]*ports[\s\S]*firewall/);
    expect(out).toContain('stopped: 0/');
  });

  it('get with its tracker unreachable names the tracker and the error in the message', async () => {
    const data = file('nowhere.bin', 100_000);
    expect(await p2p('create', data, '-o', path.join(lab.dir, 'nowhere.torrent')).exit).toBe(0);
    // Same file, a tracker address where nothing listens: a torrent made for another lab.
    const { createMetainfo } = await import('@portlab/bittorrent');
    const [dead] = await freePorts(1);
    writeFileSync(
      path.join(lab.dir, 'nowhere.torrent'),
      await createMetainfo(data, { announce: `http://127.0.0.1:${dead}/announce` }),
    );
    const get = p2p(
      'get',
      path.join(lab.dir, 'nowhere.torrent'),
      '--out',
      path.join(lab.dir, 'n'),
      '--stall-timeout',
      '2',
    );
    expect(await get.exit).toBe(1);
    expect(get.output()).toMatch(
      new RegExp(
        `no piece arrived in 2 s: the tracker http://127\\.0\\.0\\.1:${dead}/announce did not answer well: cannot reach the tracker`,
      ),
    );
  });

  it.each([
    [
      'a stall timeout that is not a number',
      ['get', 'x.torrent', '--stall-timeout', 'soon'],
      /expected a whole number from 1/,
    ],
    ['a rate it cannot read', ['seed', 'x', '--rate', 'fast'], /bad rate 'fast': write it like 2MB\/s/],
    ['zero peers', ['swarm', 'x', '--peers', '0'], /expected a whole number from 1 to 50/],
    ['a missing torrent', ['get', 'missing.torrent'], /missing\.torrent/],
    ['a file that is not a torrent', ['get', 'notes.bin'], /not a valid \.torrent file/],
    ['a missing file to seed', ['seed', 'nothing.bin'], /nothing\.bin: no such file/],
  ])('refuses %s with a message and a non-zero exit', async (_name, args, message) => {
    const run = p2p(...args);
    expect(await run.exit).not.toBe(0);
    expect(run.output()).toMatch(message);
  });
});
