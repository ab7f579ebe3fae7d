/**
 * Web seeds (BEP 19): our downloader takes pieces from HTTP servers by Range requests, from real
 * HTTP servers on free ports of 127.0.0.1: one that answers well, and ones that answer badly (wrong
 * bytes, a short body, the whole file, 503), whose answers must never end up on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetainfo, type PeerNode, parseMetainfo, webSeedFileUrl } from '../src/index.js';
import { randomFile, sha256, startNode, startTracker, transcriptData, transcriptLines } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-webseed-'));
const logDir = path.join(dir, 'log');
let tracker: Awaited<ReturnType<typeof startTracker>>;
let server: Server;
let base: string;
const nodes: PeerNode[] = [];
/** Every request the web server got: its path and Range header. */
const requests: { path: string; range: string | undefined }[] = [];
/** Milliseconds each answer of /slow/ waits. */
const SLOW_MS = 30;
const file = randomFile(dir, 'update.bin', 2 * 1024 * 1024);
const bytes = readFileSync(file);

/**
 * /good/, /slow/: Range answered right (206). /corrupt/: right headers, one byte changed.
 * /short/: right headers, half the body. /whole/: Range ignored, 200 and the file. /busy/: 503.
 */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  requests.push({ path: url, range: req.headers.range });
  const kind = url.split('/')[1];
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (kind === 'busy') {
    res.writeHead(503, { 'retry-after': '2' }).end('busy\n');
    return;
  }
  if (kind === 'whole' || !m) {
    res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    return;
  }
  const [first, last] = [Number(m[1]), Number(m[2])];
  const part = Buffer.from(bytes.subarray(first, last + 1));
  if (kind === 'corrupt') part[0]! ^= 0xff;
  const send = () => {
    res.writeHead(206, { 'content-range': `bytes ${first}-${last}/${bytes.length}` });
    res.end(kind === 'short' ? part.subarray(0, part.length / 2) : part);
  };
  if (kind === 'slow') setTimeout(send, SLOW_MS);
  else send();
}

beforeAll(async () => {
  tracker = await startTracker(logDir);
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  requests.length = 0;
});
afterAll(() => {
  tracker.server.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A torrent of the file with these web seeds; `pieceLength` 16 KiB: 128 pieces. */
async function torrentWith(urlList: string[]) {
  return parseMetainfo(await createMetainfo(file, { announce: tracker.url, urlList, pieceLength: 16384 }));
}

async function download(urlList: string[], name: string) {
  const meta = await torrentWith(urlList);
  const node = await startNode(logDir);
  nodes.push(node);
  const target = path.join(dir, name, meta.name);
  const torrent = await node.add(meta, target, { create: true });
  if (!torrent.complete) await new Promise((resolve) => torrent.once('done', () => resolve(undefined)));
  return { torrent, target };
}

describe('web seeds (BEP 19)', () => {
  it('applies BEP 19 URL rule: a URL ending in / is a folder, the name is appended', () => {
    expect(webSeedFileUrl('http://h:8080/updates/', 'a b.tar')).toBe('http://h:8080/updates/a%20b.tar');
    expect(webSeedFileUrl('http://h:8080/updates/x.tar', 'other.tar')).toBe('http://h:8080/updates/x.tar');
  });

  it('downloads with zero peers from the web seed alone, every piece by a Range request, hashed', async () => {
    const { torrent, target } = await download([`${base}/good/`], 'alone');
    expect(sha256(target)).toBe(sha256(file));
    const from = `web ${base}/good/`;
    expect([...torrent.sources.keys()]).toEqual([from]);
    expect(torrent.sources.get(from)).toMatchObject({ pieces: 128, bytes: bytes.length });
    // One request per piece, at the URL + name, for exactly that piece's bytes.
    expect(requests).toHaveLength(128);
    for (const r of requests) {
      expect(r.path).toBe('/good/update.bin');
      const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(r.range!)!.map(Number);
      expect(first! % 16384).toBe(0);
      expect(last! - first! + 1).toBe(16384);
    }
    await waitFor(() => transcriptLines(logDir, 'peer').includes(`piece 17 from ${from}`), {
      what: 'piece 17 in the transcript',
    });
  });

  it('never writes a bad answer: wrong bytes, a short body, the whole file, a 503; the failing seeds back off', async () => {
    const bad = ['corrupt', 'short', 'whole', 'busy'].map((kind) => `${base}/${kind}/update.bin`);
    const good = `${base}/good/update.bin`;
    const { torrent, target } = await download([...bad, good], 'bad');
    expect(sha256(target)).toBe(sha256(file));
    // Every piece that was kept came from the good seed.
    expect([...torrent.sources.keys()]).toEqual([`web ${good}`]);
    for (const url of bad) {
      const seed = torrent.webSeeds.find((s) => s.url === url)!;
      expect(seed.failures, url).toBeGreaterThan(0);
    }
    const lines = transcriptLines(logDir, 'peer');
    expect(
      lines.some((l) => /^bad piece \d+ from web .*\/corrupt\/update\.bin \(SHA-1 mismatch\)$/.test(l)),
    ).toBe(true);
    expect(
      lines.some((l) => /\/short\/update\.bin failed: a short answer: 8192 of 16384 bytes/.test(l)),
    ).toBe(true);
    expect(
      lines.some((l) => /\/whole\/update\.bin failed: it ignored the Range header \(200 OK\)/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /\/busy\/update\.bin failed: HTTP 503; next try in 2 s/.test(l))).toBe(true);
    const kept = transcriptData(logDir, 'peer').filter((d) => d.event === 'piece');
    expect(kept.filter((d) => bad.some((url) => d.from === `web ${url}`))).toEqual([]);
  });

  it('with a peer too, takes pieces from both and counts the bytes of each', async () => {
    const meta = await torrentWith([`${base}/slow/`]);
    const seeder = await startNode(logDir, 1024 * 1024); // the peer sends 1 MB/s at most
    nodes.push(seeder);
    await seeder.add(meta, file, { create: false });
    const { torrent, target } = await download([`${base}/slow/`], 'both');
    expect(sha256(target)).toBe(sha256(file));
    const web = torrent.sources.get(`web ${base}/slow/`);
    const peer = torrent.sources.get(`127.0.0.1:${seeder.port}`);
    expect(web?.bytes).toBeGreaterThan(0);
    expect(peer?.bytes).toBeGreaterThan(0);
    expect(web!.bytes + peer!.bytes).toBe(bytes.length);
    expect(createHash('sha1').update(readFileSync(target)).digest('hex')).toBe(
      createHash('sha1').update(bytes).digest('hex'),
    );
  });
});
