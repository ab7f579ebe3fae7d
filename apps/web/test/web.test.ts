import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let lab: TempLab;
let web: ChildProcess;
let base: string;

beforeAll(async () => {
  lab = await tempLab();
  web = fork(main, [], { env: lab.env, stdio: 'pipe' });
  base = `http://127.0.0.1:${lab.ports.http}`;
  await waitFor(
    () =>
      fetch(`${base}/api/services`).then(
        async (r) =>
          ((await r.json()) as { app: string; listening: boolean }[])
            .filter((s) => s.app === 'web')
            .every((s) => s.listening),
        () => false,
      ),
    { what: 'HTTP and HTTPS listening' },
  );
});

afterAll(async () => {
  web.kill('SIGTERM');
  await new Promise((resolve) => web.once('exit', resolve));
  lab.cleanup();
});

describe('the web app over real sockets', () => {
  it('answers /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('lists each service with its ports, listening state and clients now', async () => {
    const services = (await (await fetch(`${base}/api/services`)).json()) as Record<string, unknown>[];
    const http = services.find((s) => s.name === 'http');
    expect(http).toMatchObject({
      protocol: 'HTTP',
      port: lab.ports.http,
      standardPort: 80,
      tls: 'none',
      listening: true,
    });
    expect(services.find((s) => s.name === 'https')).toMatchObject({
      port: lab.ports.https,
      standardPort: 443,
      tls: 'implicit',
      listening: true,
    });
    expect(http!.clients as number).toBeGreaterThanOrEqual(0);
  });

  it('points Matrix clients and servers at the chat app (/.well-known/matrix, issue #16)', async () => {
    const client = await fetch(`${base}/.well-known/matrix/client`);
    expect(client.headers.get('access-control-allow-origin')).toBe('*');
    expect(await client.json()).toEqual({
      'm.homeserver': { base_url: `http://127.0.0.1:${lab.ports.matrix}` },
    });
    const server = await (await fetch(`${base}/.well-known/matrix/server`)).json();
    expect(server).toEqual({ 'm.server': `127.0.0.1:${lab.ports['matrix-tls']}` });
  });

  it('serves a home page that names the services and their ports', async () => {
    const res = await fetch(`${base}/`);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain(`<td>http</td><td>${lab.ports.http}</td><td>80</td>`);
  });

  it("speaks the browser's language on the home page (French or English), with a switch to the other", async () => {
    const fr = await fetch(`${base}/`, { headers: { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.8' } });
    expect(fr.headers.get('content-language')).toBe('fr');
    const frPage = await fr.text();
    expect(frPage).toContain('<html lang="fr">');
    expect(frPage).toContain('Étudiants : tapez 127.0.0.1');
    expect(frPage).toContain('<th>port du lab</th>');
    expect(frPage).toContain('à l’écoute');
    expect(frPage).toContain('href="/?lang=en"');
    // English first, French second: English. No header, or a language the page lacks: English.
    for (const header of ['en-GB,fr;q=0.5', 'de-DE', '']) {
      const page = await (await fetch(`${base}/`, { headers: { 'accept-language': header } })).text();
      expect(page, header).toContain('Students: type 127.0.0.1');
    }
    // q-values order the list (RFC 9110 §12.4.2): fr at 0.9 beats en at 0.2.
    const weighted = await (
      await fetch(`${base}/`, { headers: { 'accept-language': 'en;q=0.2, fr;q=0.9' } })
    ).text();
    expect(weighted).toContain('<html lang="fr">');
    // The switch wins over the browser; a lang it does not have is ignored.
    const switched = await (await fetch(`${base}/?lang=en`, { headers: { 'accept-language': 'fr' } })).text();
    expect(switched).toContain('Students: type');
    const bad = await (await fetch(`${base}/?lang=xx`, { headers: { 'accept-language': 'fr' } })).text();
    expect(bad).toContain('<html lang="fr">');
  });

  it('serves HTTPS with the lab certificate, valid for 127.0.0.1', async () => {
    const ca = readFileSync(path.join(lab.dataDir, 'tls', 'cert.pem'));
    const body = await new Promise<string>((resolve, reject) => {
      // The lab certificate is its own CA: trusting it checks the signature and the name 127.0.0.1.
      httpsGet({ host: '127.0.0.1', port: lab.ports.https, path: '/healthz', ca }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ ok: true });
  });

  it('streams transcript events over SSE, its own HTTP exchanges included, filtered by service', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/events?service=http`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const marker = `/healthz?probe=${Date.now()}`;
    // A fresh connection (no keep-alive agent), so its open event comes after we subscribed.
    await new Promise((resolve) =>
      httpGet(`${base}${marker}`, { agent: false }, (r) => r.resume().on('end', resolve)),
    );
    await fetch(`https://127.0.0.1:${lab.ports.https}/`).catch(() => undefined); // an https event, filtered out
    await waitFor(
      async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return text.includes(`GET ${marker} HTTP/1.1`) && text.includes('HTTP/1.1 200 OK');
      },
      { what: 'the request and status lines on the stream' },
    );
    controller.abort();
    const events = text
      .split('\n')
      .slice(0, -1) // whole lines only: a read may end in the middle of one
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    expect(events.every((e) => e.service === 'http')).toBe(true);
    expect(events.some((e) => e.type === 'open' && e.to === `127.0.0.1:${lab.ports.http}`)).toBe(true);
    expect(text).toMatch(/^event: transcript$/m);
  });

  it('writes its transcript to $DATA/log/http.ndjson', async () => {
    await fetch(`${base}/healthz?file-check`);
    const file = path.join(lab.dataDir, 'log', 'http.ndjson');
    await waitFor(() => readFileSync(file, 'utf8').includes('GET /healthz?file-check HTTP/1.1'), {
      what: 'the request line in http.ndjson',
    });
  });

  it('answers 404 for a page that does not exist, and logs it', async () => {
    const res = await fetch(`${base}/no-such-page`);
    expect(res.status).toBe(404);
  });
});
