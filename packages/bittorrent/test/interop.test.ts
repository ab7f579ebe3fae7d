/**
 * Interop with independent clients (Debian packages aria2 and transmission-cli), all through our
 * tracker on free ports of 127.0.0.1, with DHT, local peer discovery, PEX and IPv6 off.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aria2cLocalArgs, freePorts, transmissionConfig } from '@portlab/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Metainfo, PeerNode } from '../src/index.js';
import {
  randomFile,
  sha256,
  startNode,
  startTracker,
  torrentFor,
  transcriptData,
  transcriptLines,
} from './helpers.js';

function installed(binary: string): boolean {
  const found = spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found)
    console.warn(
      `${binary} is not installed: its interop tests are skipped (apt-get install ${binary === 'aria2c' ? 'aria2' : binary})`,
    );
  return found;
}
const hasAria2 = installed('aria2c');
const hasTransmission = installed('transmission-cli');

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-interop-'));
const logDir = path.join(dir, 'log');
let tracker: Awaited<ReturnType<typeof startTracker>>;
const nodes: PeerNode[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  tracker = await startTracker(logDir);
});
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await Promise.all(children.splice(0).map(interrupt));
});
afterAll(() => {
  tracker.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** SIGINT, as a person's Ctrl-C: aria2c then sends its "stopped" announce (SIGTERM would not). */
function interrupt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000); // a bound on a hang
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGINT');
  });
}

function aria2c(args: string[], port: number): ChildProcess {
  const child = spawn(
    'aria2c',
    [...aria2cLocalArgs(port, '127.0.0.1'), '--console-log-level=warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function ourDownload(meta: Metainfo, target: string) {
  const node = await startNode(logDir);
  nodes.push(node);
  const torrent = await node.add(meta, target, { create: true });
  await new Promise<void>((resolve) => torrent.once('done', resolve));
  return torrent;
}

describe.skipIf(!hasAria2)('with aria2c', () => {
  it('aria2c downloads a file that our peers seed', async () => {
    const file = randomFile(dir, 'to-aria2.bin', 2 * 1024 * 1024);
    const { meta, torrentFile } = await torrentFor(file, tracker.url);
    for (let i = 0; i < 2; i++) {
      const node = await startNode(logDir, 2_000_000);
      await node.add(meta, file, { create: false });
      nodes.push(node);
    }
    const [port] = await freePorts(1);
    const out = path.join(dir, 'aria2-out');
    const child = aria2c([`--dir=${out}`, '--seed-time=0', torrentFile], port!);
    expect(await exited(child)).toBe(0);
    expect(sha256(path.join(out, 'to-aria2.bin'))).toBe(sha256(file));
    const lines = transcriptLines(logDir, 'peer');
    // aria2c tries an encrypted handshake first; we close, it comes back in plain.
    expect(lines).toContainEqual(expect.stringMatching(/not a plain BitTorrent handshake/));
    expect(lines).toContainEqual(expect.stringMatching(/^handshake peer_id A2-/));
    expect(lines).toContainEqual(expect.stringMatching(/^extended handshake client aria2\//));
    // aria2c dialled our seeders from temporary ports; its BEP 10 `p` names it by its listening port.
    const named = transcriptData(logDir, 'peer')
      .filter((d) => d.torrent === meta.infoHash.toString('hex') && d.peer !== undefined)
      .map((d) => d.peer);
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named)).toEqual(new Set([`127.0.0.1:${port}`]));
  });

  it('our peer downloads a file that aria2c seeds', async () => {
    const file = randomFile(dir, 'from-aria2.bin', 2 * 1024 * 1024);
    const { meta, torrentFile } = await torrentFor(file, tracker.url);
    const [port] = await freePorts(1);
    aria2c([`--dir=${dir}`, '--bt-seed-unverified', '--seed-ratio=0.0', torrentFile], port!);
    const target = path.join(dir, 'from-aria2-out', 'from-aria2.bin');
    const torrent = await ourDownload(meta, target);
    expect(sha256(target)).toBe(sha256(file));
    expect([...torrent.sources.values()].map((s) => s.client)).toEqual([expect.stringMatching(/^aria2\//)]);
  });
});

describe.skipIf(!hasTransmission)('with transmission-cli', () => {
  it('our peer downloads a file that transmission-cli seeds', async () => {
    const file = randomFile(dir, 'from-tr.bin', 1024 * 1024);
    const { meta, torrentFile } = await torrentFor(file, tracker.url);
    const seedDir = path.join(dir, 'tr-seed');
    mkdirSync(seedDir, { recursive: true });
    copyFileSync(file, path.join(seedDir, 'from-tr.bin'));
    const [port] = await freePorts(1);
    const configDir = transmissionConfig(path.join(dir, 'tr-config'), port!);
    const child = spawn(
      'transmission-cli',
      ['-g', configDir, '-w', seedDir, '-p', String(port), torrentFile],
      {
        stdio: 'ignore',
      },
    );
    children.push(child);
    const target = path.join(dir, 'from-tr-out', 'from-tr.bin');
    const torrent = await ourDownload(meta, target);
    expect(sha256(target)).toBe(sha256(file));
    expect([...torrent.sources.values()].map((s) => s.client)).toEqual([
      expect.stringMatching(/^Transmission/),
    ]);
  });
});
