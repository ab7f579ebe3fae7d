/**
 * HTTP Range requests (RFC 9110 §14) on every kind of static file the web app serves: /updates/ (the
 * web seed of BEP 19), a student's /~user/ page, the dashboard's own files under /lab/ (@fastify/static).
 * Real app (dist/main.js), real clients: fetch and curl.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, UserStore } from '@portlab/config';
import { type TempLab, tempLab, waitFor, waitForHttp } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
let lab: TempLab;
let web: ChildProcess;
let base: string;
const sample = randomBytes(100_000);

beforeAll(async () => {
  lab = await tempLab();
  const config = loadConfig({ file: lab.configFile, env: {} });
  await new UserStore(config.paths.users).ensure();
  mkdirSync(config.paths.updates, { recursive: true });
  writeFileSync(path.join(config.paths.updates, 'sample.bin'), sample);
  symlinkSync('/etc/passwd', path.join(config.paths.updates, 'passwd.bin'));
  const html = path.join(config.paths.files, 'bob', 'public_html');
  mkdirSync(html, { recursive: true });
  writeFileSync(path.join(html, 'sample.bin'), sample);
  web = fork(main, [], { env: lab.env, stdio: 'pipe' });
  base = `http://127.0.0.1:${lab.ports.http}`;
  await waitForHttp(`${base}/healthz`, 'HTTP listening');
});

afterAll(async () => {
  web.kill('SIGTERM');
  await new Promise((resolve) => web.once('exit', resolve));
  lab.cleanup();
});

/** Each route kind, with the bytes it serves. */
const routes = () => [
  { kind: '/updates/', url: `${base}/updates/sample.bin`, bytes: sample },
  { kind: '/~user/', url: `${base}/~bob/sample.bin`, bytes: sample },
  {
    kind: '/lab/ (@fastify/static)',
    url: `${base}/lab/lab.css`,
    bytes: readFileSync(path.join(PUBLIC, 'lab.css')),
  },
];

async function get(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('Range requests on every static route', () => {
  it.each(['/updates/', '/~user/', '/lab/ (@fastify/static)'])(
    '%s: one range is 206 with Content-Range',
    async (kind) => {
      const { url, bytes } = routes().find((r) => r.kind === kind)!;
      const { res, body } = await get(url, { range: 'bytes=10-19' });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(body.equals(bytes.subarray(10, 20))).toBe(true);
      // A suffix range: the last 7 bytes (RFC 9110 §14.1.2).
      const suffix = await get(url, { range: 'bytes=-7' });
      expect(suffix.res.status).toBe(206);
      expect(suffix.body.equals(bytes.subarray(bytes.length - 7))).toBe(true);
    },
  );

  it.each(['/updates/', '/~user/', '/lab/ (@fastify/static)'])(
    '%s: a range past the end, or malformed, is 416 with bytes */length',
    async (kind) => {
      const { url, bytes } = routes().find((r) => r.kind === kind)!;
      for (const range of [
        `bytes=${bytes.length}-`,
        `bytes=${bytes.length + 5}-${bytes.length + 9}`,
        'bytes=abc',
        'bytes=9-3',
      ]) {
        const { res } = await get(url, { range });
        expect(res.status, range).toBe(416);
        expect(res.headers.get('content-range'), range).toBe(`bytes */${bytes.length}`);
      }
    },
  );

  it.each(['/updates/', '/~user/', '/lab/ (@fastify/static)'])(
    '%s: If-Range naming another version gets the whole file, 200',
    async (kind) => {
      const { url, bytes } = routes().find((r) => r.kind === kind)!;
      const stale = await get(url, { range: 'bytes=0-9', 'if-range': '"not-this-version"' });
      expect(stale.res.status).toBe(200);
      expect(stale.body.equals(bytes)).toBe(true);
      const old = await get(url, { range: 'bytes=0-9', 'if-range': 'Mon, 01 Jan 2001 00:00:00 GMT' });
      expect(old.res.status).toBe(200);
      // The date the server gave: still this version, so the range.
      const head = await fetch(url, { method: 'HEAD' });
      const same = await get(url, { range: 'bytes=0-9', 'if-range': head.headers.get('last-modified')! });
      expect(same.res.status).toBe(206);
      expect(same.body.equals(bytes.subarray(0, 10))).toBe(true);
    },
  );

  it.each(['/updates/', '/~user/'])('%s: If-Range with the strong ETag gets the range', async (kind) => {
    const { url, bytes } = routes().find((r) => r.kind === kind)!;
    const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const { res, body } = await get(url, { range: 'bytes=5-9', 'if-range': etag });
    expect(res.status).toBe(206);
    expect(body.equals(bytes.subarray(5, 10))).toBe(true);
    // A weak tag never matches (RFC 9110 §13.1.5: strong comparison).
    expect((await get(url, { range: 'bytes=5-9', 'if-range': `W/${etag}` })).res.status).toBe(200);
  });

  it.each(['/updates/', '/~user/'])(
    '%s: a browser asking again for what it holds gets 304, no bytes (RFC 9110 §13.1.2, §13.1.3)',
    async (kind) => {
      const { url, bytes } = routes().find((r) => r.kind === kind)!;
      const head = await fetch(url, { method: 'HEAD' });
      const etag = head.headers.get('etag')!;
      const lastModified = head.headers.get('last-modified')!;
      for (const headers of <Record<string, string>[]>[
        { 'if-none-match': etag },
        { 'if-none-match': `"other", W/${etag}` }, // weak comparison (§8.8.3.2)
        { 'if-none-match': '*' },
        { 'if-modified-since': lastModified },
      ]) {
        const { res, body } = await get(url, headers);
        expect(res.status, JSON.stringify(headers)).toBe(304);
        expect(body.length).toBe(0);
        expect(res.headers.get('etag')).toBe(etag);
      }
      // Another version, or an older date: the whole file.
      for (const headers of <Record<string, string>[]>[
        { 'if-none-match': '"other"' },
        { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' },
        { 'if-modified-since': 'not a date' },
        // If-None-Match wins over If-Modified-Since (§13.1.3).
        { 'if-none-match': '"other"', 'if-modified-since': lastModified },
      ]) {
        const { res, body } = await get(url, headers);
        expect(res.status, JSON.stringify(headers)).toBe(200);
        expect(body.equals(bytes)).toBe(true);
      }
    },
  );

  it.each(['/updates/', '/~user/'])(
    '%s: If-Match and If-Unmodified-Since that fail get 412 (RFC 9110 §13.1.1, §13.1.4)',
    async (kind) => {
      const { url } = routes().find((r) => r.kind === kind)!;
      const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag')!;
      expect((await get(url, { 'if-match': '"other"' })).res.status).toBe(412);
      expect((await get(url, { 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).res.status).toBe(
        412,
      );
      expect((await get(url, { 'if-match': etag })).res.status).toBe(200);
      expect((await get(url, { 'if-match': '*' })).res.status).toBe(200);
    },
  );

  it.each(['/updates/', '/~user/', '/lab/ (@fastify/static)'])(
    '%s: several ranges, or another unit than bytes, get the whole file, 200',
    async (kind) => {
      const { url, bytes } = routes().find((r) => r.kind === kind)!;
      for (const range of ['bytes=0-1,5-6', 'items=0-5']) {
        const { res, body } = await get(url, { range });
        expect(res.status, range).toBe(200);
        expect(body.equals(bytes), range).toBe(true);
      }
    },
  );

  it('curl -r gets 206 and the bytes, on /updates/ and /~user/', () => {
    for (const url of [`${base}/updates/sample.bin`, `${base}/~bob/sample.bin`]) {
      const out = spawnSync('curl', ['-s', '-D', '-', '-r', '100-199', '-o', '/dev/null', url], {
        encoding: 'utf8',
      });
      expect(out.stdout).toMatch(/^HTTP\/1\.1 206 Partial Content/);
      expect(out.stdout).toMatch(/content-range: bytes 100-199\/100000/i);
      const body = spawnSync('curl', ['-s', '-r', '100-199', url]);
      expect(Buffer.from(body.stdout).equals(sample.subarray(100, 200))).toBe(true);
    }
  });

  it('/updates/ refuses a name with "..", a dot file and a link leading out (404)', async () => {
    for (const name of ['..%2Fusers.json', '.hidden', 'passwd.bin', 'no-such.tar']) {
      expect((await fetch(`${base}/updates/${name}`)).status, name).toBe(404);
    }
  });

  it('the transcript shows each Range request and the Content-Range of its answer', async () => {
    await get(`${base}/updates/sample.bin`, { range: 'bytes=20-29' });
    await waitFor(
      () => readFileSync(path.join(lab.dataDir, 'log', 'http.ndjson'), 'utf8').includes('bytes 20-29/'),
      {
        what: 'the range request in the transcript',
      },
    );
    const events = readFileSync(path.join(lab.dataDir, 'log', 'http.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; session: string; dir: string; line: string });
    const start = events.findIndex((e) => e.line === 'Range: bytes=20-29');
    expect(start).toBeGreaterThan(0);
    const session = events[start]!.session;
    const lines = events
      .filter((e) => e.session === session && e.type === 'line')
      .map((e) => `${e.dir}: ${e.line}`);
    const at = lines.indexOf('C: Range: bytes=20-29');
    expect(lines.slice(at - 1, at + 3)).toEqual([
      'C: GET /updates/sample.bin HTTP/1.1',
      'C: Range: bytes=20-29',
      'S: HTTP/1.1 206 Partial Content',
      `S: Content-Range: bytes 20-29/${sample.length}`,
    ]);
  });
});
