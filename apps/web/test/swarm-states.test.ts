import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Session, Transcript } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { SHOWN_MS, SILENT_MS, SwarmModel } from '../public/js/swarm-model.js';

const TORRENT = 'ab'.repeat(20);
const PIECES = 611;
const T0 = Date.parse('2026-12-01T09:00:00.000Z');

/**
 * A downloader's lines, written by @portlab/transcript as the BitTorrent peer writes them
 * (packages/bittorrent/src/torrent.ts, Torrent.data), then stamped at chosen seconds so the test
 * says when each happened.
 */
function download(script: (session: Session, source: string) => void): object[] {
  const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-swarm-')), 'log');
  const transcript = new Transcript('peer', 6881, { logDir, node: '127.0.0.1:6881' });
  const source = '127.0.0.1:6882';
  const session = transcript.connected({
    localAddress: '127.0.0.1',
    localPort: 41_000,
    remoteAddress: '127.0.0.1',
    remotePort: 6882,
  });
  session.client('handshake', [], {
    event: 'torrent',
    torrent: TORRENT,
    name: 'lab05.bin',
    length: PIECES * 16_384,
    pieceLength: 16_384,
    pieces: PIECES,
    have: 0,
  });
  script(session, source);
  transcript.flush();
  return readFileSync(path.join(logDir, 'peer.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => ({ ...JSON.parse(line), id: String(i), ts: new Date(T0 + i * 1000).toISOString() }));
}

const piece = (session: Session, source: string, index: number, have: number) =>
  session.server(`piece ${index} from ${source}`, [], {
    event: 'piece',
    torrent: TORRENT,
    piece: index,
    from: source,
    bytes: 16_384,
    have,
    pieces: PIECES,
  });

function modelOf(events: object[]) {
  const swarm = new SwarmModel();
  swarm.addEvents(events, T0); // received on a clock that is not the lab's: the offset is learnt
  const [d] = swarm.list();
  return { swarm, d };
}

describe('a download is shown live, finished or stopped, never stuck at 1/611 (swarm-model.js)', () => {
  it('shows a download that got every piece as finished, then moves it to the past list', () => {
    const events = download((s, from) => {
      for (let i = 0; i < PIECES; i++) piece(s, from, i, i + 1);
      s.close();
    });
    const { swarm, d } = modelOf(events);
    const end = T0 + (events.length - 2) * 1000; // the last piece; the close comes after it
    expect(d.state(end)).toBe('done');
    expect(swarm.byState(end + 1000).current).toContain(d);
    expect(swarm.byState(end + SHOWN_MS + 1000).past).toContain(d);
    expect(swarm.byState(end + SHOWN_MS + 1000).current).not.toContain(d);
  });

  it('counts the pieces the peer says it has, when the page missed most of its lines', () => {
    // The page opened late: it saw the handshake, then only the last piece (have = 611).
    const events = download((s, from) => piece(s, from, 610, PIECES));
    const { d } = modelOf(events);
    expect(d.progress).toBe(PIECES);
    expect(d.state(T0)).toBe('done');
  });

  it('marks a download whose connections all closed at 1/611 as stopped, not live', () => {
    const events = download((s, from) => {
      piece(s, from, 0, 1);
      s.close(); // kill %1, Ctrl-C: the downloading process is gone
    });
    const { swarm, d } = modelOf(events);
    expect(d.progress).toBe(1);
    expect(d.state(T0 + 3000)).toBe('stopped');
    expect(d.stopReason).toBe('closed');
    expect(swarm.byState(T0 + 3000 + SHOWN_MS + 1).past).toContain(d);
  });

  it('marks a download with no news for a while as stopped, and live again when a piece comes', () => {
    const events = download((s, from) => piece(s, from, 0, 1));
    const { swarm, d } = modelOf(events);
    const last = Date.parse((events.at(-1) as { ts: string }).ts);
    expect(d.state(last + SILENT_MS - 1000)).toBe('live');
    expect(d.state(last + SILENT_MS + 1000)).toBe('stopped');
    expect(d.stopReason).toBe('silent');
    const later = events.at(-1) as { data: Record<string, unknown> };
    swarm.addEvents([
      {
        ...later,
        id: 'later',
        ts: new Date(last + SILENT_MS + 5000).toISOString(),
        line: 'piece 1 from 127.0.0.1:6882',
        data: { ...later.data, piece: 1, have: 2 },
      },
    ]);
    expect(d.state(last + SILENT_MS + 6000)).toBe('live');
    expect(d.progress).toBe(2);
  });

  it("tells the lab's time from the browser's, whatever their clocks say", () => {
    const events = download(() => undefined);
    const swarm = new SwarmModel();
    // The projector's machine is 2 hours ahead; the last event arrives 50 ms after it was written.
    swarm.addEvents(events, T0 + (events.length - 1) * 1000 + 2 * 3600_000 + 50);
    expect(swarm.now(T0 + 2 * 3600_000 + 10_050)).toBe(T0 + 10_000);
  });
});

describe('web seeds beside peers (BEP 19, lab 06)', () => {
  it('counts the bytes a web seed sent apart from the bytes peers sent', () => {
    const web = 'web http://127.0.0.1:8080/updates/portlab-update-1.0.tar';
    const events = download((s, from) => {
      for (let i = 0; i < 3; i++) piece(s, from, i, i + 1);
      for (let i = 3; i < 8; i++) piece(s, web, i, i + 1);
    });
    const { d } = modelOf(events);
    expect(d.bytesBySource).toEqual({ web: 5 * 16_384, peers: 3 * 16_384 });
    expect(d.sources.map((p: { address: string }) => p.address)).toEqual(['127.0.0.1:6882', web]);
  });

  it('counts no web bytes when only peers sent pieces', () => {
    const { d } = modelOf(download((s, from) => piece(s, from, 0, 1)));
    expect(d.bytesBySource).toEqual({ web: 0, peers: 16_384 });
  });
});
