// Lab 5's and 6's machinery, out of the demos (labs/harness/src/p2p/): the shared file, reading a
// seeder's JSON line, the charts, and what the tracker's transcript says of a student's peers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  announcesOf,
  barChart,
  makeFile,
  seederLabels,
  seedingLine,
  sha1Of,
  sourceRows,
} from '@portlab/labs';
import type { TranscriptEvent } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';

describe('the shared file', () => {
  it('is the same bytes on every machine, kept when already there at its size, made again otherwise', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'portlab-p2p-'));
    const [a, b] = [path.join(dir, 'a.bin'), path.join(dir, 'b.bin')];
    await makeFile(a, 100_000);
    await makeFile(b, 100_000);
    expect(await sha1Of(a)).toBe(await sha1Of(b));
    // A file of the wrong size (a download cut short) is made again; one of the right size is kept.
    writeFileSync(b, 'short');
    await makeFile(b, 100_000);
    expect(await sha1Of(b)).toBe(await sha1Of(a));
    const small = path.join(dir, 'small.bin');
    await makeFile(small, 50_000);
    expect(await sha1Of(small)).not.toBe(await sha1Of(a));
  });
});

describe("a seeder's JSON line (portlab p2p seed --json)", () => {
  const line = {
    event: 'seeding',
    name: 'x.bin',
    infoHash: 'ab'.repeat(20),
    torrent: 'x.bin.torrent',
    file: 'x.bin',
    host: '127.0.0.2',
    publicAddress: '127.0.0.2',
    address: '127.0.0.2:6882',
    port: 6882,
    have: 4,
    pieces: 4,
    rate: null,
  };
  it('gives the port, the address and the info hash', () => {
    expect(seedingLine(JSON.stringify(line))).toEqual({
      port: 6882,
      address: '127.0.0.2:6882',
      infoHash: 'ab'.repeat(20),
    });
  });
  it('refuses a sentence meant for people (the output without --json), saying what it read', () => {
    const human = 'seeding x.bin (4/4 pieces) on 127.0.0.1:6882, upload cap none';
    expect(() => seedingLine(human)).toThrow(`printed a line that is not JSON: ${human}`);
  });
  it('refuses JSON that is not a seeding line: another event, no port, a port that is not a number', () => {
    for (const bad of [
      { ...line, event: 'stopped' },
      { ...line, port: undefined },
      { ...line, port: '6882' },
      null,
    ])
      expect(() => seedingLine(JSON.stringify(bad))).toThrow('printed no seeding line');
  });
});

describe("lab 5's charts", () => {
  it('draws the longest time as the full width and the others in proportion', () => {
    const [ftp, p2p] = barChart(
      [
        { label: 'FTP', seconds: 20 },
        { label: 'BitTorrent', seconds: 5 },
      ],
      40,
    );
    expect(ftp).toBe(`FTP         ${'█'.repeat(40)} 20.0 s`);
    expect(p2p).toBe(`BitTorrent  ${'█'.repeat(10)} 5.0 s`);
  });

  it('lists the sources most pieces first, named by port, with their share of the file', () => {
    const seeders = [{ port: 7001 }, { port: 7002 }];
    const sources = new Map(
      [
        { address: '127.0.0.1:7001', pieces: 1, bytes: 16384 },
        { address: '127.0.0.1:7002', pieces: 3, bytes: 49152 },
        { address: '127.0.0.1:7003', pieces: 0, bytes: 0 },
      ].map((s) => [s.address, s]),
    );
    expect(sourceRows({ sources, have: { size: 4 } }, seederLabels(seeders))).toEqual([
      ['127.0.0.1:7002 peer #2', 3, 49152, 75],
      ['127.0.0.1:7001 peer #1', 1, 16384, 25],
      ['127.0.0.1:7003', 0, 0, 0],
    ]);
  });
});

describe("the tracker's transcript, per student", () => {
  let n = 0;
  const at = (session: string, dir: 'C' | 'S', line: string): TranscriptEvent => ({
    ts: new Date(Date.UTC(2026, 11, 6, 10, 0, n++)).toISOString(),
    type: 'line',
    service: 'tracker',
    port: 6969,
    session,
    peer: '127.0.0.1:40000',
    dir,
    line,
  });
  const events = [
    at(
      't.1',
      'C',
      'GET /announce info_hash=aa peer_id=-PL-1 port=6882 uploaded=0 downloaded=0 left=100 event=started user=e01',
    ),
    at('t.1', 'S', '200 interval=60 peers=[127.0.0.1:7001 127.0.0.1:7002]'),
    at(
      't.2',
      'C',
      'GET /announce info_hash=aa peer_id=-PL-1 port=6882 uploaded=30 downloaded=100 left=0 user=e01',
    ),
    at('t.2', 'S', '200 interval=60 peers=[127.0.0.1:7003]'),
    // Another student's peer: never counted for e01.
    at(
      't.3',
      'C',
      'GET /announce info_hash=aa peer_id=-PL-2 port=6883 uploaded=9 downloaded=9 left=0 event=completed user=e02',
    ),
    at('t.3', 'S', '200 interval=60 peers=[127.0.0.1:7009]'),
    // A request that is no announce, and an announce with no user: ignored.
    at('t.4', 'C', 'GET /scrape info_hash=aa'),
    at('t.4', 'S', '200 files=1'),
    at('t.5', 'C', 'GET /announce info_hash=aa peer_id=-PL-3 port=6884 uploaded=1 downloaded=1 left=0'),
  ];

  it("gathers one student's peers: the most they said, completion, every peer they were handed", () => {
    const peers = announcesOf(events, 'e01');
    expect([...peers.keys()]).toEqual(['-PL-1']);
    const peer = peers.get('-PL-1')!;
    expect(peer).toMatchObject({ downloaded: 100, uploaded: 30, completed: true });
    expect([...peer.handed].sort()).toEqual(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
  });

  it("never counts another student's peers, nor an account with no announce", () => {
    expect([...announcesOf(events, 'e02').keys()]).toEqual(['-PL-2']);
    expect(announcesOf(events, 'e03').size).toBe(0);
  });
});
