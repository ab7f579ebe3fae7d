import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rawConnection, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  announce,
  createTracker,
  DEFAULT_SWARM_LIMITS,
  decode,
  MAX_TRACKER_CONNECTIONS_PER_ADDRESS,
  percentEncode,
  Swarms,
} from '../src/index.js';
import { startTracker, transcriptLines } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-tracker-'));
let tracker: Awaited<ReturnType<typeof startTracker>>;
beforeAll(async () => {
  tracker = await startTracker(dir);
});
afterAll(() => {
  tracker.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const hash = Buffer.alloc(20, 0xab);
const id = (n: number) => Buffer.from(`-PL0100-${String(n).padStart(12, '0')}`);
const base = { infoHash: hash, uploaded: 0, downloaded: 0 };

/** A raw GET, as a student would type it: returns the decoded bencoded answer. */
async function get(query: string, pathname = '/announce'): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${tracker.port}${pathname}?${query}`);
  return decode(Buffer.from(await res.arrayBuffer()), { maxBytes: 1 << 20, maxDepth: 8 }) as Record<
    string,
    unknown
  >;
}

describe('the HTTP tracker (BEP 3, 23, 48)', () => {
  it('introduces peers to each other, in compact form (BEP 23), never to themselves', async () => {
    await announce(tracker.url, { ...base, peerId: id(1), port: 7001, left: 0, event: 'started' });
    const answer = await announce(tracker.url, {
      ...base,
      peerId: id(2),
      port: 7002,
      left: 100,
      event: 'started',
    });
    expect(answer.peers).toEqual([{ ip: '127.0.0.1', port: 7001 }]);
    expect(answer.interval).toBe(30);
  });

  it('gives a seed only the peers that still download', async () => {
    const answer = await announce(tracker.url, { ...base, peerId: id(3), port: 7003, left: 0 });
    expect(answer.peers).toEqual([{ ip: '127.0.0.1', port: 7002 }]);
  });

  it('answers the dictionary form when compact=0 is asked', async () => {
    const query = `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(4))}&port=7004&uploaded=0&downloaded=0&left=5&compact=0`;
    const answer = await get(query);
    const peers = answer.peers as { ip: Uint8Array; port: number }[];
    expect(peers.map((p) => p.port).sort()).toEqual([7001, 7002, 7003]);
    expect(Buffer.from(peers[0]!.ip).toString()).toBe('127.0.0.1');
  });

  it('counts seeds, leechers and completed downloads in a scrape (BEP 48)', async () => {
    await announce(tracker.url, { ...base, peerId: id(2), port: 7002, left: 0, event: 'completed' });
    const answer = await get(`info_hash=${percentEncode(hash)}`, '/scrape');
    const files = answer.files as Record<string, unknown>;
    expect(Object.values(files)).toEqual([{ complete: 3, incomplete: 1, downloaded: 1 }]);
  });

  it('forgets a peer that says stopped', async () => {
    await announce(tracker.url, { ...base, peerId: id(4), port: 7004, left: 5, event: 'stopped' });
    const answer = await announce(tracker.url, { ...base, peerId: id(5), port: 7005, left: 5 });
    expect(answer.peers.map((p) => p.port).sort()).toEqual([7001, 7002, 7003]);
  });

  it.each([
    ['no info_hash', 'peer_id=x&port=1&left=0', /info_hash must be 20 bytes/],
    [
      'a short peer_id',
      `info_hash=${percentEncode(hash)}&peer_id=abc&port=1&left=0`,
      /peer_id must be 20 bytes/,
    ],
    [
      'port 0',
      `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(9))}&port=0&left=0`,
      /port 0 is not a TCP port/,
    ],
    [
      'port 70000',
      `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(9))}&port=70000&left=0`,
      /port 70000 is not a TCP port/,
    ],
    [
      'an info_hash of 21 bytes',
      `info_hash=${percentEncode(Buffer.alloc(21, 1))}&peer_id=${percentEncode(id(9))}&port=9&left=0`,
      /info_hash must be 20 bytes, percent-encoded \(got 21\)/,
    ],
    [
      'a numwant of 16 digits',
      `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(9))}&port=9&left=0&numwant=1234567890123456`,
      /numwant must be a whole number/,
    ],
    [
      'a negative left',
      `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(9))}&port=9&left=-1`,
      /left must be a whole number/,
    ],
    [
      'an unknown event',
      `info_hash=${percentEncode(hash)}&peer_id=${percentEncode(id(9))}&port=9&left=0&event=paused`,
      /unknown event 'paused'/,
    ],
  ])('answers a failure reason for %s', async (_name, query, reason) => {
    const answer = await get(query);
    expect(Buffer.from(answer['failure reason'] as Uint8Array).toString()).toMatch(reason);
  });

  it('writes a readable transcript: the announce as a GET line, the answer summarised', () => {
    const lines = transcriptLines(dir, 'tracker');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^GET \/announce info_hash=abab.* peer_id=-PL0100-000000000001 port=7001 .*event=started/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^200 interval=30 complete=1 incomplete=1 peers=\[127.0.0.1:7001\]/),
    );
  });

  it('a peer working for a lab account says so in its announces (user=), which the transcript keeps', async () => {
    const answer = await announce(tracker.url, {
      ...base,
      peerId: id(10),
      port: 7010,
      left: 100,
      event: 'started',
      user: 'e07',
    });
    expect(answer.peers.length).toBeGreaterThan(0); // an ordinary announce for the tracker
    // The transcript is written on the next turn of the event loop.
    await waitFor(
      () =>
        transcriptLines(dir, 'tracker').some((l) =>
          /^GET \/announce .*peer_id=-PL0100-000000000010 port=7010 .* event=started user=e07$/.test(l),
        ),
      { what: "the announce with user=e07 in the tracker's transcript" },
    );
  });

  it('forgets peers that stopped announcing (expiry)', async () => {
    const swarms = new Swarms(50);
    const peer = { ip: '127.0.0.1', port: 1, peerId: id(1), left: 0, seenAt: Date.now() };
    swarms.update('h', peer, 'started');
    expect(swarms.counts('h').complete).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(swarms.counts('h').complete).toBe(0);
  });
});

describe('what one address can make the tracker remember', () => {
  /** A tracker for which this machine is another machine (a student's PC): its limits apply. */
  async function strictTracker() {
    const strict = createTracker({
      transcript: new Transcript('tracker', 0, { logDir: dir }),
      trustIpFrom: () => false,
    });
    await new Promise<void>((resolve) => strict.server.listen(0, '127.0.0.1', resolve));
    return {
      ...strict,
      url: `http://127.0.0.1:${(strict.server.address() as { port: number }).port}/announce`,
    };
  }
  const flood = Buffer.alloc(20, 0xef);
  const at = { infoHash: flood, uploaded: 0, downloaded: 0, left: 1 };
  const { peersPerSource } = DEFAULT_SWARM_LIMITS;

  it(`a flood of made-up peers from one address: ${peersPerSource} recorded, then a failure reason`, async () => {
    const strict = await strictTracker();
    try {
      for (let n = 0; n < peersPerSource; n++) {
        await announce(strict.url, { ...at, peerId: id(n), port: 10_000 + n, event: 'started' });
      }
      // Over every torrent: a new info_hash is no way around it.
      await expect(
        announce(strict.url, { ...at, infoHash: Buffer.alloc(20, 1), peerId: id(999), port: 9999 }),
      ).rejects.toThrow(/too many peers announced from 127\.0\.0\.1 \(64\): stop some first/);
      expect(strict.swarms.counts(flood.toString('hex')).incomplete).toBe(peersPerSource);
      expect(strict.swarms.infoHashes()).toEqual([flood.toString('hex')]);
      // A peer already known announces again as usual; one that stops makes room for another.
      await announce(strict.url, { ...at, peerId: id(0), port: 10_000 });
      await announce(strict.url, { ...at, peerId: id(1), port: 10_001, event: 'stopped' });
      await announce(strict.url, { ...at, peerId: id(999), port: 9999 });
    } finally {
      strict.server.close();
    }
  });

  it(`${MAX_TRACKER_CONNECTIONS_PER_ADDRESS} connections at once from one address; the next is closed`, async () => {
    const strict = await strictTracker();
    const port = (strict.server.address() as { port: number }).port;
    const open = () => rawConnection(port);
    const held = [];
    try {
      for (let n = 0; n < MAX_TRACKER_CONNECTIONS_PER_ADDRESS; n++) held.push(await open());
      const extra = await open();
      held.push(extra);
      await waitFor(() => extra.closed(), { what: 'the extra connection to be closed' });
      expect(held.filter((c) => c.closed())).toHaveLength(1);
      await waitFor(
        () => transcriptLines(dir, 'tracker').includes('too many connections from 127.0.0.1 (64); closing'),
        {
          what: 'the refusal in the transcript',
        },
      );
    } finally {
      for (const c of held) c.socket.destroy();
      strict.server.close();
    }
  });

  it('a numwant of 10^15 gets at most 200 peers', async () => {
    // The lab machine's own peers are not limited per address: 250 of them from 127.0.0.1.
    const many = Buffer.alloc(20, 0x77);
    for (let n = 0; n < 250; n++) {
      await announce(tracker.url, {
        infoHash: many,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        peerId: id(n),
        port: 20_000 + n,
      });
    }
    const answer = await get(
      `info_hash=${percentEncode(many)}&peer_id=${percentEncode(id(9999))}&port=9&left=1&numwant=999999999999999`,
    );
    expect((answer.peers as Uint8Array).length).toBe(200 * 6);
  });
});

describe("the announce's source address and BEP 3's `ip` (a lab on another address than 127.0.0.1)", () => {
  const other = Buffer.alloc(20, 0xcd);
  const at = { infoHash: other, uploaded: 0, downloaded: 0 };
  /** Every peer the tracker lists for `other`, asked by a fresh downloader. */
  const listed = async (url: string) =>
    (await announce(url, { ...at, peerId: id(99), port: 7099, left: 1 })).peers.filter(
      (p) => p.port !== 7099,
    );

  it('records the address the announce is sent from (localAddress): 127.0.0.2, not 127.0.0.1', async () => {
    await announce(tracker.url, { ...at, peerId: id(10), port: 7010, left: 0, localAddress: '127.0.0.2' });
    expect(await listed(tracker.url)).toContainEqual({ ip: '127.0.0.2', port: 7010 });
    expect(await listed(tracker.url)).not.toContainEqual({ ip: '127.0.0.1', port: 7010 });
  });

  it('believes `ip` from the lab machine itself (a peer of a lab bound to 0.0.0.0 names its public address)', async () => {
    await announce(tracker.url, { ...at, peerId: id(11), port: 7011, left: 0, ip: '127.0.0.3' });
    expect(await listed(tracker.url)).toContainEqual({ ip: '127.0.0.3', port: 7011 });
  });

  it("ignores `ip` from another machine: a student cannot send the class's downloads elsewhere", async () => {
    // Every test client is on this machine: a tracker told that no source is this machine's
    // stands for one that another machine (a student's PC) announces to.
    const strict = createTracker({
      transcript: new Transcript('tracker', 0, { logDir: dir }),
      trustIpFrom: () => false,
    });
    await new Promise<void>((resolve) => strict.server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(strict.server.address() as { port: number }).port}/announce`;
    try {
      await announce(url, { ...at, peerId: id(12), port: 7012, left: 0, ip: '192.0.2.66' });
      expect(await listed(url)).toEqual([{ ip: '127.0.0.1', port: 7012 }]);
      // Not an IP address at all: ignored even from this machine.
      await announce(tracker.url, { ...at, peerId: id(13), port: 7013, left: 0, ip: 'evil.example' });
      expect(await listed(tracker.url)).toContainEqual({ ip: '127.0.0.1', port: 7013 });
    } finally {
      strict.server.close();
    }
  });
});
