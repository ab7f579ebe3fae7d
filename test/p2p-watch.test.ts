/**
 * Who can see you in a swarm (issue 15 §2): peers bound to their own loopback addresses
 * (`portlab p2p seed --host 127.0.0.N`), aria2c on another, and `portlab p2p watch`, the rights
 * holder's agent, which takes one piece from each and records address, port, client and time.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { announce, createMetainfo, type createTracker, parseMetainfo } from '@portlab/bittorrent';
import { aria2cLocalArgs, freePorts, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, startTracker } from './apps.js';

function installed(binary: string): boolean {
  try {
    execFileSync('which', [binary], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(`${binary} is not installed: the watcher's aria2c case is skipped (apt-get install aria2)`);
    return false;
  }
}
const hasAria2 = installed('aria2c');

let lab: TempLab;
let tracker: ReturnType<typeof createTracker>;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  lab = await tempLab();
  tracker = await startTracker(lab);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const server of servers) server.close();
  tracker.server.close();
  lab.cleanup();
});

function p2p(...args: string[]): CliRun {
  const run = runCli(lab, 'p2p', ...args);
  children.push(run.child);
  return run;
}

/** aria2c seeding `torrent` (its file beside it) from 127.0.0.5, told nothing of DHT or LPD. */
function aria2Seed(torrent: string, port: number): ChildProcess {
  const child = spawn(
    'aria2c',
    [
      ...aria2cLocalArgs(port, '127.0.0.5'),
      '--console-log-level=warn',
      `--dir=${path.dirname(torrent)}`,
      '--bt-seed-unverified',
      '--seed-ratio=0.0',
      torrent,
    ],
    { stdio: 'ignore' },
  );
  children.push(child);
  return child;
}

/** The rows of the watcher's table: "ip port client piece verified time" lines of its output. */
function tableRows(output: string): string[][] {
  return output
    .split('\n')
    .filter((l) => /^127\.0\.0\.\d+ +\d+ /.test(l))
    .map((l) => l.trim().split(/ {2,}/));
}

describe('portlab p2p watch', () => {
  it('names each peer by its own address (--host 127.0.0.N) with a verified piece, and one that sends nothing as no piece', async () => {
    const data = path.join(lab.dir, 'lab6.bin');
    writeFileSync(data, randomBytes(1024 * 1024));
    expect(await p2p('create', data).exit).toBe(0);
    const torrent = `${data}.torrent`;
    const meta = parseMetainfo(readFileSync(torrent));
    const seeds = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => p2p('seed', torrent, '--host', host));
    await waitFor(() => seeds.every((s) => s.output().includes('others download it with')), {
      what: `3 seeds to start: ${seeds.map((s) => s.output()).join(' | ')}`,
    });
    const seedAt = seeds.map((s) => /on (127\.0\.0\.\d):(\d+), upload cap/.exec(s.output())!.slice(1));
    expect(seedAt.map(([ip]) => ip)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    const [ariaPort, silentPort] = await freePorts(2);
    if (hasAria2) aria2Seed(torrent, ariaPort!);
    // A peer that answers the handshake with the right info_hash and then says nothing: no bitfield,
    // no unchoke. It registers itself with an announce, as any client does.
    const silent = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.write(
          Buffer.concat([
            Buffer.from([19]),
            Buffer.from('BitTorrent protocol'),
            Buffer.alloc(8),
            meta.infoHash,
            Buffer.from('-XX0001-silentsilent'),
          ]),
        ),
      );
    });
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.6', resolve));
    await announce(meta.announce, {
      infoHash: meta.infoHash,
      peerId: Buffer.from('-XX0001-silentsilent'),
      port: silentPort!,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
      localAddress: '127.0.0.6',
    });
    // A port the tracker lists where nothing listens: seen by the tracker only.
    const [deadPort] = await freePorts(1);
    await announce(meta.announce, {
      infoHash: meta.infoHash,
      peerId: Buffer.from('-XX0001-deaddeaddead'),
      port: deadPort!,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
      localAddress: '127.0.0.7',
    });

    // aria2c is listed once it has announced: the tracker's transcript says when.
    if (hasAria2)
      await waitFor(
        () => readFileSync(path.join(lab.dataDir, 'log', 'tracker.ndjson'), 'utf8').includes('peer_id=A2-'),
        { what: 'aria2c to announce' },
      );
    const watch = p2p('watch', torrent, '--for', '1', '--peer-timeout', '3', '--user', 'alice');
    expect(await watch.exit).toBe(0);
    const out = watch.output();
    expect(out).toMatch(/^IP address +port +client +piece +verified +time \(UTC\)$/m);
    const rows = new Map(tableRows(out).map((r) => [`${r[0]}:${r[1]}`, r]));
    for (const [ip, port] of seedAt) {
      const row = rows.get(`${ip}:${port}`);
      expect(row, `${ip}:${port} in\n${out}`).toBeDefined();
      expect(row![2]).toBe('portlab 0.1');
      expect(Number(row![3])).toBeLessThan(meta.pieceHashes.length);
      expect(row![4]).toBe('✔');
      expect(row![5]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    if (hasAria2) {
      const row = rows.get(`127.0.0.5:${ariaPort}`);
      expect(row, `aria2c in\n${out}`).toBeDefined();
      expect(row![2]).toMatch(/^aria2 1\.\d+\.\d+$/);
      expect(row![4]).toBe('✔');
    }
    expect(rows.get(`127.0.0.6:${silentPort}`)!.slice(2, 5)).toEqual([
      '-XX0001-',
      '—',
      'connected, no piece',
    ]);
    expect(rows.get(`127.0.0.7:${deadPort}`)!.slice(2, 5)).toEqual(['?', '—', 'seen by the tracker only']);

    // The same table, for programs: CSV and NDJSON under $DATA/watch/.
    const saved = readdirSync(path.join(lab.dataDir, 'watch'));
    const csv = saved.find((f) => f.endsWith('.csv'))!;
    expect(out).toContain(path.join(lab.dataDir, 'watch', csv.replace(/\.csv$/, '')));
    const records = readFileSync(path.join(lab.dataDir, 'watch', csv.replace(/\.csv$/, '.ndjson')), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.verified === true)).toHaveLength(hasAria2 ? 4 : 3);
    expect(records.every((r) => r.torrent === meta.infoHash.toString('hex'))).toBe(true);
    const lines = readFileSync(path.join(lab.dataDir, 'watch', csv), 'utf8').split('\r\n');
    expect(lines[0]).toBe('ip,port,client,peerId,status,piece,verified,at,listedAt,note');
    // And in the tracker's transcript: the watcher announced for alice, with its own client tag.
    const announces = readFileSync(path.join(lab.dataDir, 'log', 'tracker.ndjson'), 'utf8');
    expect(announces).toMatch(/GET \/announce [^"]*peer_id=-PW0100-[^"]*user=alice/);
    for (const s of seeds) s.child.kill('SIGINT');
    for (const s of seeds) await s.exit;
  });

  it('speaks French with --lang fr', async () => {
    const data = path.join(lab.dir, 'vide.bin');
    writeFileSync(data, randomBytes(50_000));
    expect(await p2p('create', data).exit).toBe(0);
    const watch = p2p('watch', `${data}.torrent`, '--for', '1', '--lang', 'fr');
    expect(await watch.exit).toBe(0);
    expect(watch.output()).toMatch(/^adresse IP +port +client +morceau +vérifié +heure \(UTC\)$/m);
    expect(watch.output()).toMatch(/0 pair\(s\) listé\(s\) par le tracker, 0 morceau\(x\) vérifié\(s\)/);
  });

  it('says so, and fails, when the lab tracker never answers (the lab is not running)', async () => {
    const data = path.join(lab.dir, 'stopped.bin');
    writeFileSync(data, randomBytes(50_000));
    expect(await p2p('create', data).exit).toBe(0);
    tracker.server.close();
    try {
      const watch = p2p('watch', `${data}.torrent`, '--for', '1');
      expect(await watch.exit).toBe(1);
      expect(watch.output()).toMatch(/never answered: is the lab running \(npx portlab up\)\?/);
    } finally {
      await new Promise<void>((resolve) => tracker.server.listen(lab.ports.tracker, '127.0.0.1', resolve));
    }
  });

  it.concurrent.for([
    ['en', /refused: .* announces to the tracker http:\/\/127\.0\.0\.1:\d+\/announce, not to the lab's/],
    ['fr', /refusé : .* annonce au tracker http:\/\/127\.0\.0\.1:\d+\/announce, pas à celui du lab/],
  ] as const)('refuses a torrent announced to another tracker (%s)', async ([lang, message], { expect }) => {
    const data = path.join(lab.dir, `elsewhere-${lang}.bin`);
    writeFileSync(data, randomBytes(50_000));
    const [other] = await freePorts(1);
    const torrent = path.join(lab.dir, `elsewhere-${lang}.torrent`);
    writeFileSync(torrent, await createMetainfo(data, { announce: `http://127.0.0.1:${other}/announce` }));
    const watch = p2p('watch', torrent, '--lang', lang);
    expect(await watch.exit).toBe(2);
    expect(watch.output()).toMatch(message);
  });

  it.concurrent.for([
    ['a wildcard address', ['seed', 'x', '--host', '0.0.0.0'], /'0\.0\.0\.0' is not one IP address/],
    ['a name, not an address', ['get', 'x.torrent', '--host', 'pc12'], /'pc12' is not one IP address/],
    [
      'an address of another machine',
      ['watch', 'x.torrent', '--host', '192.0.2.7'],
      /192\.0\.2\.7 is not an address of this machine/,
    ],
  ] as [string, string[], RegExp][])('refuses --host with %s', async ([, args, message], { expect }) => {
    const run = p2p(...args);
    expect(await run.exit).not.toBe(0);
    expect(run.output()).toMatch(message);
  });
});
