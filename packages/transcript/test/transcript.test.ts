import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type ConnectionEvent,
  endpoint,
  followTranscripts,
  hostOfEndpoint,
  type LineEvent,
  Transcript,
  type TranscriptEvent,
} from '../src/index.js';

const tempLogDir = () => path.join(mkdtempSync(path.join(tmpdir(), 'portlab-log-')), 'log');
const readEvents = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TranscriptEvent);
const socket = {
  remoteAddress: '::ffff:127.0.0.1',
  remotePort: 53122,
  localAddress: '127.0.0.1',
  localPort: 8025,
};

describe('endpoints', () => {
  it('writes an address and port, and reads the address back (IPv4, IPv4 through IPv6, IPv6)', () => {
    for (const [address, written, host] of [
      ['10.0.0.7', '10.0.0.7:40000', '10.0.0.7'],
      ['::ffff:127.0.0.1', '127.0.0.1:40000', '127.0.0.1'],
      ['::1', '[::1]:40000', '::1'],
    ] as const) {
      expect(endpoint(address, 40000)).toBe(written);
      expect(hostOfEndpoint(written)).toBe(host);
    }
  });
});

describe('writing transcripts', () => {
  it('records a session: open, both sides of the dialogue with flags, close', () => {
    const logDir = tempLogDir();
    const t = new Transcript('smtp', 8025, { logDir });
    const s = t.accepted(socket);
    s.server('220 lab.test ESMTP');
    s.client('AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=', ['credentials']);
    s.close();
    s.close(); // twice is once
    t.flush();
    const events = readEvents(path.join(logDir, 'smtp.ndjson'));
    expect(events.map((e) => e.type)).toEqual(['open', 'line', 'line', 'close']);
    expect(events[0]).toMatchObject({
      service: 'smtp',
      port: 8025,
      peer: '127.0.0.1:53122',
      from: '127.0.0.1:53122',
      to: '127.0.0.1:8025',
      role: 'server',
    });
    expect(events[1]).toMatchObject({ dir: 'S', line: '220 lab.test ESMTP' });
    expect(events[2]).toMatchObject({ dir: 'C', flags: ['credentials'] });
    expect(new Set(events.map((e) => (e as LineEvent).session)).size).toBe(1);
    expect(Date.parse(events[0]!.ts)).not.toBeNaN();
  });

  it('says which side connected when this process dials out', () => {
    const logDir = tempLogDir();
    const t = new Transcript('peer', 6881, { logDir });
    t.connected({
      remoteAddress: '127.0.0.1',
      remotePort: 6883,
      localAddress: '127.0.0.1',
      localPort: 40000,
    }).close();
    t.flush();
    const [open] = readEvents(path.join(logDir, 'peer.ndjson'));
    expect(open).toMatchObject({ role: 'client', from: '127.0.0.1:40000', to: '127.0.0.1:6883', port: 6883 });
    expect(open).not.toHaveProperty('node');
  });

  it('names the machine it speaks for when one process plays several, and tags sessions by process', () => {
    const logDir = tempLogDir();
    const a = new Transcript('peer', 6882, { logDir, node: '127.0.0.1:6882' });
    const b = new Transcript('peer', 6883, { logDir, node: '127.0.0.1:6883' });
    a.connected({
      remoteAddress: '127.0.0.1',
      remotePort: 6883,
      localAddress: '127.0.0.1',
      localPort: 40001,
    });
    b.accepted({ remoteAddress: '127.0.0.1', remotePort: 40001, localAddress: '127.0.0.1', localPort: 6883 });
    a.flush();
    const [dial, accept] = readEvents(path.join(logDir, 'peer.ndjson')) as ConnectionEvent[];
    expect(dial).toMatchObject({ role: 'client', node: '127.0.0.1:6882' });
    expect(accept).toMatchObject({ role: 'server', node: '127.0.0.1:6883' });
    expect(dial!.session.split('.')[0]).toBe(accept!.session.split('.')[0]);
  });

  it('carries machine-readable data beside a line when given, and only then', () => {
    const logDir = tempLogDir();
    const t = new Transcript('peer', 6881, { logDir });
    const s = t.accepted(socket);
    const data = {
      event: 'piece',
      torrent: 'ab'.repeat(20),
      piece: 17,
      from: '127.0.0.1:6883',
      bytes: 16384,
    };
    s.client('piece 17 from 127.0.0.1:6883', [], data);
    s.server('have 17');
    s.server('interested', ['summary'], { event: 'interest' });
    t.flush();
    const [, withData, plain, flagged] = readEvents(path.join(logDir, 'peer.ndjson')) as LineEvent[];
    expect(withData).toMatchObject({ dir: 'C', line: 'piece 17 from 127.0.0.1:6883', data });
    expect(withData).not.toHaveProperty('flags');
    // Old readers and lines without data see exactly what they saw before.
    expect(plain).not.toHaveProperty('data');
    expect(flagged).toMatchObject({ flags: ['summary'], data: { event: 'interest' } });
  });

  it('writes each line event as JSON.stringify writes the event, keys in their order', () => {
    const logDir = tempLogDir();
    const t = new Transcript('imap', 1143, { logDir, maxLineLength: 40 });
    const s = t.accepted(socket);
    s.server('* 1 FETCH (UID 1 BODY[] {5}');
    s.server('{5 bytes of message data}', ['summary']);
    s.client('a1 LOGIN "b\\"ob" caf\u00e9 \u2028 \u0007', ['credentials'], { user: 'bob', ok: true });
    s.client('x'.repeat(100));
    t.flush();
    const written = readFileSync(path.join(logDir, 'imap.ndjson'), 'utf8').trim().split('\n').slice(1);
    // The event rebuilt in its documented key order, written by JSON.stringify: the same text.
    const expected = written.map((text) => {
      const e = JSON.parse(text) as LineEvent;
      const { ts, type, service, port, session, peer, dir, line, flags, data } = e;
      return JSON.stringify({ ts, type, service, port, session, peer, dir, line, flags, data });
    });
    expect(written).toEqual(expected);
    const events = written.map((text) => JSON.parse(text) as LineEvent);
    expect(events.map((e) => e.line.slice(0, 12))).toEqual([
      '* 1 FETCH (U',
      '{5 bytes of ',
      'a1 LOGIN "b\\',
      'xxxxxxxxxxxx',
    ]);
    expect(events[2]).toMatchObject({ flags: ['credentials'], data: { user: 'bob', ok: true } });
    expect(events[3]!.flags).toEqual(['truncated']);
    expect(new Date(events[0]!.ts).toISOString()).toBe(events[0]!.ts);
  });

  it('cuts a megabyte line to a readable one that says how long it was', () => {
    const logDir = tempLogDir();
    const t = new Transcript('smtp', 8025, { logDir, maxLineLength: 100 });
    t.accepted(socket).client('A'.repeat(1_000_000));
    t.flush();
    const line = readEvents(path.join(logDir, 'smtp.ndjson'))[1] as LineEvent;
    expect(line.line.length).toBeLessThan(150);
    expect(line.line).toMatch(/\[1000000 bytes in all\]$/);
    expect(line.flags).toContain('truncated');
  });

  it('rotates a full file and keeps only the configured number of old ones', () => {
    const logDir = tempLogDir();
    const t = new Transcript('http', 8080, { logDir, rotateBytes: 4096, keep: 2 });
    const s = t.accepted(socket);
    for (let i = 0; i < 200; i++) {
      s.client(`GET /page/${i} HTTP/1.1`);
      t.flush();
    }
    const files = readdirSync(logDir).sort();
    expect(files).toEqual(['http.1.ndjson', 'http.2.ndjson', 'http.ndjson']);
    for (const f of files) expect(readFileSync(path.join(logDir, f)).length).toBeLessThanOrEqual(4096);
    const last = readEvents(path.join(logDir, 'http.ndjson')).at(-1) as LineEvent;
    expect(last.line).toBe('GET /page/199 HTTP/1.1');
    expect(existsSync(path.join(logDir, 'http.3.ndjson'))).toBe(false);
  });
});

describe('following transcripts live', () => {
  it('sees every event written by another process, across rotations, in order', async () => {
    const logDir = tempLogDir();
    const seen: LineEvent[] = [];
    const follower = followTranscripts({ logDir, intervalMs: 20 }, (e) => {
      if (e.type === 'line') seen.push(e);
    });
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { Transcript } from ${JSON.stringify(dist)};
      const t = new Transcript('imap', 8143, { logDir: ${JSON.stringify(logDir)}, rotateBytes: 8192, keep: 5 });
      const s = t.accepted({ remoteAddress: '127.0.0.1', remotePort: 5000, localAddress: '127.0.0.1', localPort: 8143 });
      for (let i = 0; i < 300; i++) {
        s.client('a' + i + ' NOOP');
        if (i % 10 === 0) { t.flush(); await new Promise((r) => setTimeout(r, 5)); }
      }
      s.client('été ✓ 日本');
    `;
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    // A bound on a hang, not a guess at speed: a busy machine may take seconds.
    const deadline = Date.now() + 30_000;
    while (seen.length < 301 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    follower.close();
    expect(readdirSync(logDir).filter((f) => /^imap\.\d\.ndjson$/.test(f)).length).toBeGreaterThan(0);
    expect(seen.length).toBe(301);
    expect(seen.slice(0, 300).map((e) => e.line)).toEqual(
      Array.from({ length: 300 }, (_, i) => `a${i} NOOP`),
    );
    expect(seen[300]!.line).toBe('été ✓ 日本');
  });

  it('loses nothing when the file rotates several times between two looks', async () => {
    const logDir = tempLogDir();
    const seen: LineEvent[] = [];
    const follower = followTranscripts({ logDir, intervalMs: 200 }, (e) => {
      if (e.type === 'line') seen.push(e);
    });
    // Written in one go, between two polls: about six files of 50 events, so the live file the
    // follower holds is rotated to .1, then shifted to .2, .3… before it looks again.
    const t = new Transcript('imap', 8143, { logDir, rotateBytes: 8192, keep: 9 });
    const s = t.accepted(socket);
    s.client('a0 NOOP');
    t.flush();
    const held = Date.now() + 30_000; // until the follower holds the live file
    while (seen.length < 1 && Date.now() < held) await new Promise((r) => setTimeout(r, 20));
    for (let i = 1; i < 300; i++) {
      s.client(`a${i} NOOP`);
      t.flush();
    }
    expect(readdirSync(logDir).filter((f) => /^imap\.\d\.ndjson$/.test(f)).length).toBeGreaterThan(2);
    const deadline = Date.now() + 30_000;
    while (seen.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500)); // and nothing twice
    follower.close();
    expect(seen.map((e) => e.line)).toEqual(Array.from({ length: 300 }, (_, i) => `a${i} NOOP`));
  });

  it('starts at the end unless asked for what is already there, and filters by service', async () => {
    const logDir = tempLogDir();
    const smtp = new Transcript('smtp', 8025, { logDir });
    const pop = new Transcript('pop3', 8110, { logDir });
    smtp.accepted(socket).server('220 old');
    smtp.flush();
    const live: TranscriptEvent[] = [];
    const all: TranscriptEvent[] = [];
    const f1 = followTranscripts({ logDir, intervalMs: 20, services: ['smtp'] }, (e) => live.push(e));
    const f2 = followTranscripts({ logDir, intervalMs: 20, fromStart: true }, (e) => all.push(e));
    smtp.accepted(socket).server('220 new');
    pop.accepted(socket).server('+OK');
    smtp.flush();
    pop.flush();
    // Both followers poll every 20 ms: wait until each has seen the newest line (a fixed 200 ms
    // was too short on a busy machine), then check that nothing else came.
    const lines = (events: TranscriptEvent[]) => events.flatMap((e) => (e.type === 'line' ? [e.line] : []));
    const deadline = Date.now() + 30_000;
    while (!(lines(live).includes('220 new') && lines(all).length >= 3) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    f1.close();
    f2.close();
    expect(lines(live)).toEqual(['220 new']);
    expect(lines(all).sort()).toEqual(['+OK', '220 new', '220 old']);
  });
});
