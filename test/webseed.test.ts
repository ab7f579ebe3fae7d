/**
 * Web seeds (BEP 19) across the lab's real apps: the peer app publishes the demo update in
 * $DATA/updates/ with a web-seeded torrent, the web app serves it by Range requests. Independent
 * clients (aria2c, transmission-cli) download a file from the web seed alone, with zero peers; our
 * `portlab p2p get` takes the update from the resident peer and the web seed at once.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseMetainfo } from '@portlab/bittorrent';
import {
  aria2cLocalArgs,
  freePorts,
  type TempLab,
  tempLab,
  transmissionConfig,
  waitFor,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, runCli, startApp } from './apps.js';

function installed(binary: string, pkg: string): boolean {
  const found = spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found)
    console.warn(`${binary} is not installed: its web seed test is skipped (apt-get install ${pkg})`);
  return found;
}
const hasAria2 = installed('aria2c', 'aria2');
const hasTransmission = installed('transmission-cli', 'transmission-cli');

let lab: TempLab;
const apps: RunningApp[] = [];
const children: ChildProcess[] = [];
let updates: string;
let web: string;
/** A file nobody seeds, and its torrent made by `portlab p2p create --web-seed`. */
let lone: { file: string; torrent: string };

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  lab = await tempLab();
  apps.push(await startApp(lab, 'web'), await startApp(lab, 'peer'));
  updates = path.join(lab.dataDir, 'updates');
  web = `http://127.0.0.1:${lab.ports.http}`;
  const file = path.join(updates, 'lone.bin');
  writeFileSync(file, randomBytes(1024 * 1024 + 1234));
  const torrent = path.join(lab.dir, 'lone.torrent');
  const create = runCli(lab, 'p2p', 'create', file, '-o', torrent, '--web-seed', `${web}/updates/lone.bin`);
  expect(await create.exit, create.output()).toBe(0);
  expect(create.output()).toContain(`web seed   ${web}/updates/lone.bin`);
  lone = { file, torrent };
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(apps.map((a) => a.stop()));
  lab.cleanup();
});

/** The web server's transcript lines: each with its session. */
function httpLines(): { session: string; dir: string; line: string }[] {
  return readFileSync(path.join(lab.dataDir, 'log', 'http.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'line');
}

/** How many requests for `url` asked for a range and got a 206, in the web transcript. */
function rangeRequests(urlPath: string): number {
  const lines = httpLines();
  return lines.filter(
    (e, i) => e.line === `GET ${urlPath} HTTP/1.1` && /^Range: bytes=\d+-\d+$/.test(lines[i + 1]?.line ?? ''),
  ).length;
}

describe('the demo update (contract: /updates/portlab-update-1.0.tar and .torrent)', () => {
  it('is served by the web app, a ustar archive with its CC0 licence, and its torrent names the web seed', async () => {
    const tar = await fetch(`${web}/updates/portlab-update-1.0.tar`);
    expect(tar.status).toBe(200);
    const bytes = Buffer.from(await tar.arrayBuffer());
    const listing = spawnSync('tar', ['-tvf', '-'], { input: bytes, encoding: 'utf8' });
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/portlab-update-1\.0\/LICENSE/);
    expect(listing.stdout).toMatch(/portlab-update-1\.0\/data\/part-4\.bin/);
    const license = spawnSync('tar', ['-xOf', '-', 'portlab-update-1.0/LICENSE'], {
      input: bytes,
      encoding: 'utf8',
    });
    expect(license.stdout).toMatch(/CC0 1\.0/);
    const res = await fetch(`${web}/updates/portlab-update-1.0.torrent`);
    expect(res.headers.get('content-type')).toBe('application/x-bittorrent');
    const meta = parseMetainfo(Buffer.from(await res.arrayBuffer()));
    expect(meta.announce).toBe(`http://127.0.0.1:${lab.ports.tracker}/announce`);
    expect(meta.urlList).toEqual([`${web}/updates/portlab-update-1.0.tar`]);
    expect(meta.length).toBe(bytes.length);
  });

  it('portlab p2p get downloads it through the resident peer and the web seed, and says what each sent', async () => {
    const out = path.join(lab.dir, 'got');
    const get = runCli(lab, 'p2p', 'get', path.join(updates, 'portlab-update-1.0.torrent'), '--out', out);
    children.push(get.child);
    expect(await get.exit, get.output()).toBe(0);
    expect(sha256(path.join(out, 'portlab-update-1.0.tar'))).toBe(
      sha256(path.join(updates, 'portlab-update-1.0.tar')),
    );
    const text = get.output();
    // The resident peer is on the same machine and has no upload cap: it may send nearly all.
    expect(text).toMatch(
      new RegExp(`^127\\.0\\.0\\.1:${lab.ports.peer} +portlab +[1-9]\\d* +[1-9]\\d*`, 'm'),
    );
    expect(text).toMatch(/^bytes by HTTP \(web seeds\): \d+; from peers: [1-9]\d*$/m);
    expect(text).not.toMatch(/not received/); // no web seed request failed, none was cut short
  });
});

describe.skipIf(!hasAria2)('aria2c', () => {
  it('downloads with zero peers from the web seed alone; the web transcript shows its Range requests', async () => {
    const port = (await freePorts(1))[0] as number;
    const dir = path.join(lab.dir, 'aria2');
    const child = spawn(
      'aria2c',
      [...aria2cLocalArgs(port), '--seed-time=0', '--console-log-level=warn', `--dir=${dir}`, lone.torrent],
      { stdio: 'ignore' },
    );
    children.push(child);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(sha256(path.join(dir, 'lone.bin'))).toBe(sha256(lone.file));
    expect(rangeRequests('/updates/lone.bin')).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasTransmission)('transmission-cli', () => {
  it('downloads with zero peers from the web seed alone', async () => {
    const port = (await freePorts(1))[0] as number;
    const configDir = transmissionConfig(path.join(lab.dir, 'tr-config'), port!);
    const dir = path.join(lab.dir, 'tr');
    mkdirSync(dir, { recursive: true });
    const before = rangeRequests('/updates/lone.bin');
    const child = spawn('transmission-cli', ['-g', configDir, '-w', dir, '-p', String(port), lone.torrent], {
      stdio: 'ignore',
    });
    children.push(child);
    const target = path.join(dir, 'lone.bin');
    // transmission-cli seeds on once done: the download is over when the whole file is there.
    await waitFor(() => existsSync(target) && sha256(target) === sha256(lone.file), {
      timeoutMs: 30_000,
      what: 'transmission-cli to download lone.bin from the web seed',
    });
    child.kill('SIGINT');
    expect(rangeRequests('/updates/lone.bin')).toBeGreaterThan(before);
  });
});

describe('with a peer and the web seed', () => {
  it('portlab p2p get takes pieces from both, and counts the bytes of each', async () => {
    // 16 MiB: long enough for the web seed to answer before the peer alone would be done.
    const file = path.join(updates, 'both.bin');
    writeFileSync(file, randomBytes(16 * 1024 * 1024));
    const torrent = path.join(lab.dir, 'both.torrent');
    const create = runCli(lab, 'p2p', 'create', file, '-o', torrent, '--web-seed', `${web}/updates/both.bin`);
    expect(await create.exit, create.output()).toBe(0);
    const seed = runCli(lab, 'p2p', 'seed', file);
    children.push(seed.child);
    await waitFor(() => /seeding/.test(seed.output()), { what: `the seed to start:\n${seed.output()}` });
    const out = path.join(lab.dir, 'both');
    const get = runCli(lab, 'p2p', 'get', torrent, '--out', out);
    children.push(get.child);
    expect(await get.exit, get.output()).toBe(0);
    seed.child.kill('SIGINT');
    expect(sha256(path.join(out, 'both.bin'))).toBe(sha256(file));
    const text = get.output();
    const [, http, peers] = /bytes by HTTP \(web seeds\): (\d+); from peers: (\d+)/.exec(text) ?? [];
    expect(Number(http), text).toBeGreaterThan(0);
    expect(Number(peers), text).toBeGreaterThan(0);
    expect(Number(http) + Number(peers)).toBe(16 * 1024 * 1024);
    expect(text).toMatch(
      /^web http:\/\/127\.0\.0\.1:\d+\/updates\/both\.bin +web seed \(HTTP, BEP 19\) +[1-9]/m,
    );
    expect(rangeRequests('/updates/both.bin')).toBeGreaterThan(0);
  });
});
