import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LabConfig, loadConfig, UserStore } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userdirRoutes } from '../src/routes/userdir.js';

let lab: TempLab;
let config: LabConfig;
let web: FastifyInstance;
let outside: string;
const html = (user: string) => path.join(lab.dataDir, 'files', user, 'public_html');

/** GET with the path sent exactly as written: fetch and curl would tidy "../" away first. */
function get(
  rawPath: string,
): Promise<{ status: number; type: string; body: Buffer; location?: string; csp?: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: lab.ports.http, path: rawPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks),
          ...(res.headers.location ? { location: res.headers.location } : {}),
          ...(res.headers['content-security-policy']
            ? { csp: String(res.headers['content-security-policy']) }
            : {}),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  lab = await tempLab();
  config = loadConfig({ file: lab.configFile, env: {} });
  await new UserStore(config.paths.users).ensure();
  outside = mkdtempSync(path.join(tmpdir(), 'portlab-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
  for (const user of ['alice', 'bob']) mkdirSync(path.join(html(user), 'docs'), { recursive: true });
  writeFileSync(path.join(html('alice'), 'index.html'), '<h1>Alice</h1>\n');
  writeFileSync(path.join(html('alice'), 'style.css'), 'h1 { color: red }\n');
  writeFileSync(path.join(html('alice'), 'docs', 'notes & <todo>.txt'), 'notes\n');
  writeFileSync(path.join(html('bob'), 'docs', 'secret.txt'), 'bob only');
  symlinkSync(outside, path.join(html('alice'), 'escape')); // a folder link pointing out
  symlinkSync(path.join(outside, 'secret.txt'), path.join(html('alice'), 'escape.txt'));
  symlinkSync(html('bob'), path.join(html('alice'), 'bob')); // another user's folder
  web = Fastify();
  userdirRoutes(web, config);
  await web.listen({ port: lab.ports.http, host: '127.0.0.1' });
});

afterAll(async () => {
  await web.close();
  rmSync(outside, { recursive: true, force: true });
  lab.cleanup();
});

describe('/~user/: public_html on the web', () => {
  it('serves index.html by default, with its MIME type', async () => {
    const res = await get('/~alice/');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html; charset=utf-8');
    expect(res.body.toString()).toBe('<h1>Alice</h1>\n');
    expect((await get('/~alice/style.css')).type).toBe('text/css; charset=utf-8');
  });

  it("sandboxes users' pages, so one student's script cannot read the lab's /api with a visitor's browser", async () => {
    expect((await get('/~alice/')).csp).toMatch(/^sandbox allow-scripts/);
    expect((await get('/~alice/style.css')).csp).toMatch(/^sandbox/);
    expect((await get('/~alice/docs/')).csp).toMatch(/^sandbox/); // a listing too
  });

  it('redirects /~alice and /~alice/docs to their folder URL', async () => {
    expect(await get('/~alice')).toMatchObject({ status: 301, location: '/~alice/' });
    expect(await get('/~alice/docs')).toMatchObject({ status: 301, location: '/~alice/docs/' });
  });

  it('lists a folder without index.html, names escaped', async () => {
    const res = await get('/~alice/docs/');
    expect(res.status).toBe(200);
    const page = res.body.toString();
    expect(page).toContain('<a href="notes%20%26%20%3Ctodo%3E.txt">notes &amp; &lt;todo&gt;.txt</a>');
    expect(page).toContain('<a href="../">../</a>');
  });

  it('answers 404 for an unknown user and a missing file', async () => {
    expect((await get('/~mallory/')).status).toBe(404);
    expect((await get('/~alice/nope.html')).status).toBe(404);
    expect((await get('/~..%2f..%2fetc/passwd')).status).toBe(404);
  });
});

describe('path traversal on the userdir: nothing leaks', () => {
  const cases: [string, string][] = [
    ['../', '/~alice/../../../../etc/passwd'],
    ['%2e%2e', '/~alice/%2e%2e/%2e%2e/%2e%2e/etc/passwd'],
    ['%2f inside a name', '/~alice/..%2f..%2f..%2fetc%2fpasswd'],
    ['backslashes', '/~alice/..\\..\\..\\etc\\passwd'],
    ['%5c backslashes', '/~alice/..%5c..%5c..%5cetc%5cpasswd'],
    ['an absolute path', '/~alice//etc/passwd'],
    ["another user's folder by name", '/~alice/../bob/public_html/docs/secret.txt'],
    ["another user's folder, encoded", '/~alice/%2e%2e/%2e%2e/bob/public_html/docs/secret.txt'],
  ];
  for (const [what, rawPath] of cases) {
    it(`${what}: ${rawPath} -> 404`, async () => {
      const res = await get(rawPath);
      expect(res.status).toBe(404);
      expect(res.body.toString()).not.toMatch(/root:|bob only/);
    });
  }

  it('a link pointing out of public_html -> 403, for a file, a folder, and another user', async () => {
    for (const p of [
      '/~alice/escape.txt',
      '/~alice/escape/secret.txt',
      '/~alice/escape/',
      '/~alice/bob/docs/secret.txt',
    ]) {
      const res = await get(p);
      expect(res.status).toBe(403);
      expect(res.body.toString()).not.toMatch(/TOP SECRET|bob only/);
      expect(res.body.toString()).not.toContain(lab.dir);
    }
  });
});
