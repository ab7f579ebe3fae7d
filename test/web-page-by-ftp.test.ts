import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type TempLab, tempLab } from '@portlab/testkit';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';

/**
 * The flow "a web page by FTP" (docs/architecture.md): a client uploads by FTP to the files app
 * (STOR into public_html), the web app serves it at /~user/. Both apps are the real ones
 * (dist/main.js), on the free ports of one temp lab, sharing its data dir as under `portlab up`.
 */

let lab: TempLab;
const apps: RunningApp[] = [];
beforeAll(async () => {
  lab = await tempLab();
  // One after the other: each makes the shared users.json and certificate if missing.
  apps.push(await startApp(lab, 'files'));
  apps.push(await startApp(lab, 'web'));
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  lab?.cleanup();
});

function curl(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile('curl', ['-sS', ...args], (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr })),
  );
}

describe('a file uploaded by FTP, then fetched over HTTP', () => {
  it('is the same, byte for byte, at /~alice/', async () => {
    const body = randomBytes(500_000);
    const local = path.join(lab.dir, 'photo.png');
    writeFileSync(local, body);
    const upload = await curl([
      '-T',
      local,
      `ftp://alice:wonderland@127.0.0.1:${lab.ports.ftp}/public_html/`,
    ]);
    expect(upload.code, upload.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${lab.ports.http}/~alice/photo.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('an HTML page uploaded by FTP (basic-ftp, passive mode) is the page served at /~bob/', async () => {
    const page = '<!doctype html>\n<title>Bob</title>\n<h1>Bob’s page, by FTP</h1>\n';
    const client = new Client();
    try {
      await client.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'bob', password: 'builder' });
      await client.ensureDir('/public_html');
      await client.uploadFrom(Readable.from([Buffer.from(page)]), 'index.html');
    } finally {
      client.close();
    }
    const res = await fetch(`http://127.0.0.1:${lab.ports.http}/~bob/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toBe(page);
  });
});
