import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureLabCertificate, type LabConfig, loadConfig, UserStore } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer, EventHub, UserdirCache } from '../src/server.js';

// The fast path (fast-path.ts) answers a page already in memory before fastify routes it: the
// answers must be the route's own, and every change the route would see must end them.

let lab: TempLab;
let config: LabConfig;
let web: FastifyInstance;
let userdir: UserdirCache;
let outside: string;
const html = (...names: string[]) => path.join(config.paths.files, 'alice', 'public_html', ...names);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Collects a response as an Answer: its header fields all kept (Date left out), its body. */
function collect(resolve: (answer: Answer) => void): (res: IncomingMessage) => void {
  return (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const { date: _, ...rest } = res.headers;
      resolve({ status: res.statusCode!, headers: rest, body: Buffer.concat(chunks).toString() });
    });
  };
}

/** A request with the path sent as written. */
function ask(rawPath: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: lab.ports.http, path: rawPath, method, headers }, collect(resolve))
      .on('error', reject)
      .end();
  });
}

/** Replaces a file by a rename, as an FTP upload or an editor does: a new inode. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

beforeAll(async () => {
  lab = await tempLab();
  config = loadConfig({ file: lab.configFile, env: {} });
  await new UserStore(config.paths.users).ensure();
  outside = mkdtempSync(path.join(tmpdir(), 'portlab-outside-'));
  mkdirSync(path.join(outside, 'docs'));
  writeFileSync(path.join(outside, 'docs', 'page.html'), '<p>SECRET</p>\n');
  mkdirSync(html('docs'), { recursive: true });
  writeFileSync(html('index.html'), '<h1>Alice</h1>\n');
  writeFileSync(html('docs', 'page.html'), '<p>docs</p>\n');
  writeFileSync(html('notes.txt'), 'notes\n');
  // settledNs 0: files are held as soon as read (a test cannot wait for their times to settle).
  userdir = new UserdirCache(config, { settledNs: 0n });
  web = await buildWebServer({ config, hub: new EventHub(config.paths.log), userdir });
  await web.listen({ port: lab.ports.http, host: '127.0.0.1' });
});

afterAll(async () => {
  await web.close();
  rmSync(outside, { recursive: true, force: true });
  lab.cleanup();
});

describe('the fast path: pages in memory answered before routing', () => {
  it('answers a /~user/ page as the route did, header for header, after the route answered it once', async () => {
    const first = await ask('/~alice/');
    expect(userdir.answer('/~alice/')).not.toBeNull(); // remembered: the next request takes the fast path
    const again = await ask('/~alice/');
    expect(again).toEqual(first);
    expect(again.body).toBe('<h1>Alice</h1>\n');
    expect(again.headers.server).toBe('portlab-web (fastify)');
    expect(again.headers['content-security-policy']).toMatch(/^sandbox/);
    // The query is no part of the file's name.
    expect(await ask('/~alice/?x=1')).toEqual(first);
  });

  it('answers HEAD with the same fields and no body', async () => {
    await ask('/~alice/notes.txt');
    const head = await ask('/~alice/notes.txt', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('6');
    expect(head.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('leaves ranges and preconditions to the route', async () => {
    await ask('/~alice/notes.txt');
    const part = await ask('/~alice/notes.txt', 'GET', { range: 'bytes=0-2' });
    expect(part.status).toBe(206);
    expect(part.body).toBe('not');
    expect(part.headers['content-range']).toBe('bytes 0-2/6');
  });

  it('serves a changed file at once', async () => {
    await ask('/~alice/docs/page.html');
    replace(html('docs', 'page.html'), '<p>docs, second version</p>\n');
    const res = await ask('/~alice/docs/page.html');
    expect(res.body).toBe('<p>docs, second version</p>\n');
    expect(res.headers['content-length']).toBe(String(res.body.length));
  });

  it('is stopped by a link swapped in on the way out of public_html (403), as the route is', async () => {
    await ask('/~alice/docs/page.html');
    renameSync(html('docs'), html('docs-old'));
    symlinkSync(path.join(outside, 'docs'), html('docs'));
    try {
      const res = await ask('/~alice/docs/page.html');
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('SECRET');
    } finally {
      rmSync(html('docs'));
      renameSync(html('docs-old'), html('docs'));
    }
    expect((await ask('/~alice/docs/page.html')).status).toBe(200);
  });

  it('is stopped by a file replaced by a link leading out', async () => {
    await ask('/~alice/notes.txt');
    rmSync(html('notes.txt'));
    symlinkSync(path.join(outside, 'docs', 'page.html'), html('notes.txt'));
    try {
      expect((await ask('/~alice/notes.txt')).status).toBe(403);
    } finally {
      rmSync(html('notes.txt'));
      writeFileSync(html('notes.txt'), 'notes\n');
    }
  });

  it('answers 404 once the file is gone, or its user', async () => {
    writeFileSync(html('gone.html'), 'soon gone\n');
    await ask('/~alice/gone.html');
    expect((await ask('/~alice/gone.html')).status).toBe(200);
    rmSync(html('gone.html'));
    expect((await ask('/~alice/gone.html')).status).toBe(404);

    await ask('/~alice/');
    const users = new UserStore(config.paths.users);
    const before = readFileSync(users.file);
    users.remove(['alice']);
    try {
      expect((await ask('/~alice/')).status).toBe(404);
    } finally {
      writeFileSync(users.file, before);
    }
  });

  it('answers the home page as the route does, in each language', async () => {
    for (const [query, headers, lang] of [
      ['', {}, 'en'],
      ['', { 'accept-language': 'fr-FR,fr;q=0.9' }, 'fr'],
      ['?lang=fr', {}, 'fr'],
      ['?lang=en', { 'accept-language': 'fr' }, 'en'],
      ['?lang=xx', { 'accept-language': 'fr' }, 'fr'], // left to the route
    ] as const) {
      const res = await ask(`/${query}`, 'GET', headers);
      expect(res.status).toBe(200);
      expect(res.headers['content-language']).toBe(lang);
      expect(res.headers.vary).toBe('Accept-Language');
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
      expect(res.body).toContain(`<html lang="${lang}">`);
    }
  });

  it('leaves an HTTP/1.1 request without Host to the route (400, RFC 9112 §3.2)', async () => {
    await ask('/~alice/');
    const res = await new Promise<string>((resolve, reject) => {
      import('node:net').then(({ connect }) => {
        const socket = connect(lab.ports.http, '127.0.0.1', () =>
          socket.end('GET /~alice/ HTTP/1.1\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      }, reject);
    });
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers over HTTPS too, from the same cache, as the route does there', async () => {
    // main.ts builds the HTTPS server as the HTTP one, with `tls` and the same UserdirCache.
    const { key, cert } = await ensureLabCertificate(path.join(lab.dataDir, 'tls'));
    const secure = await buildWebServer({
      config,
      hub: new EventHub(config.paths.log),
      userdir,
      tls: { key, cert },
    });
    await secure.listen({ port: 0, host: '127.0.0.1' });
    const port = (secure.server.address() as { port: number }).port;
    const askSecure = (rawPath: string) =>
      new Promise<Answer>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port, path: rawPath, ca: cert }, collect(resolve))
          .on('error', reject)
          .end();
      });
    // Count the fast path's questions: only the fast path asks `answer`.
    const asked: string[] = [];
    const answer = userdir.answer.bind(userdir);
    userdir.answer = (urlPath) => {
      asked.push(urlPath);
      return answer(urlPath);
    };
    try {
      const plain = await ask('/~alice/notes.txt');
      const first = await askSecure('/~alice/notes.txt');
      const again = await askSecure('/~alice/notes.txt');
      expect(first).toEqual(plain);
      expect(again).toEqual(plain);
      expect(asked.filter((p) => p === '/~alice/notes.txt')).toHaveLength(3);
      expect(userdir.answer('/~alice/notes.txt')).not.toBeNull(); // held: HTTPS was answered from memory
    } finally {
      userdir.answer = answer;
      await secure.close();
    }
  });
});

describe('what the fast path remembers', () => {
  it('keeps no URL longer than 512 characters: a URL has endless spellings', async () => {
    const long = `/~alice/${'./'.repeat(300)}index.html`;
    const res = await ask(long);
    expect(res.status).toBe(200);
    expect(userdir.answer(long)).toBeNull();
    expect((await ask(long)).body).toBe('<h1>Alice</h1>\n');
  });
});
