import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { HandTyped } from '@portlab/labs';
import { type TempLab, tempLab } from '@portlab/testkit';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, startLab } from './helpers.js';

/** The head of an HTTP response, up to the empty line (RFC 9112 §2.1). */
const HEAD = /\r\n\r\n/;

let lab: TempLab;
let running: { stop(): Promise<void> };
let before: { code: number; out: string };
beforeAll(async () => {
  lab = await tempLab();
  await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2', e09: 'e09-Pass3' });
  running = await startLab(lab);
  // Each student's page, from lab 3: what HTTPS serves them.
  for (const [user, password] of [
    ['alice', 'wonderland'],
    ['e07', 'e07-Pass1'],
    ['e08', 'e08-Pass2'],
    ['e09', 'e09-Pass3'],
  ] as const) {
    const ftp = new Client();
    try {
      await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user, password });
      await ftp.uploadFrom(Readable.from([`<title>${user}</title>`]), 'public_html/index.html');
    } finally {
      ftp.close();
    }
  }
  before = await portlab(lab, ['check', '04', '--lang', 'en']);
});
afterAll(async () => {
  await running.stop();
  lab.cleanup();
});

/** Types a request as `nc -C` does (each line, then an empty line) and returns the status line. */
async function byHand(lines: string[]): Promise<string> {
  const http = await HandTyped.open('127.0.0.1', lab.ports.http);
  for (const line of [...lines, '']) http.type(line);
  const head = await http.read(HEAD);
  http.close();
  return head.split('\r\n')[0]!;
}

/** The same, from another address of the machine: another PC of the class (127.0.0.0/8 is all loopback). */
function byHandFrom(localAddress: string, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: lab.ports.http, localAddress }, () =>
      socket.write(lines.map((l) => `${l}\r\n`).join('') + '\r\n'),
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (HEAD.test(text)) {
        socket.destroy();
        resolve(text.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

/** GET over TLS without checking the certificate, as `curl -k` does; resolves with the status line. */
function overTls(target: string, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port: lab.ports.https,
        rejectUnauthorized: false,
        ...(localAddress ? { localAddress } : {}),
      },
      () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('end', () => resolve(text.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

describe('lab 04: the web', () => {
  it('check on a fresh lab: exit 1, says what is missing without the answer', () => {
    expect(before.code, before.out).toBe(1);
    expect(before.out).toContain(
      '✘ no 404 answer under /~alice/ yet: ask for a page of your site that does not exist',
    );
    expect(before.out).toContain(
      '✘ no 400 answer to a request for /~alice/ yet: what must an HTTP/1.1 request hold?',
    );
    expect(before.out).toContain('✘ no HEAD request for /~alice/ yet');
    expect(before.out).toContain('✘ your page /~alice/ has not been fetched over HTTPS yet');
    expect(before.out).not.toMatch(/Host/i); // the 400 hint asks; it does not tell
    expect(before.out).toContain('0/4 done; 4 still to do.');
  });

  it('check: a 404, a HEAD and a page over HTTPS, made by hand, are each seen', async () => {
    expect(await byHand(['GET /~alice/nothing-here HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'])).toBe(
      'HTTP/1.1 404 Not Found',
    );
    expect(await byHand(['HEAD /~alice/ HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'])).toBe(
      'HTTP/1.1 200 OK',
    );
    expect(await overTls('/~alice/')).toBe('HTTP/1.1 200 OK');
    const partly = await portlab(lab, ['check', '04', '--lang', 'fr']);
    expect(partly.code, partly.out).toBe(1);
    expect(partly.out).toContain('✔ une page introuvable demandée sous /~alice/ (404)');
    expect(partly.out).toContain('✔ une requête HEAD pour /~alice/');
    expect(partly.out).toContain('✔ votre page /~alice/ obtenue en HTTPS');
    expect(partly.out).toContain('3/4 fait ; il en reste 1.');
  });

  it('check: exit 0 once a request for /~alice/ without Host got its 400', async () => {
    expect(await byHand(['GET /~alice/ HTTP/1.1', 'Connection: close'])).toBe('HTTP/1.1 400 Bad Request');
    const done = await portlab(lab, ['check', '04', '--lang', 'en']);
    expect(done.out).toContain('✔ an incomplete request for /~alice/ refused (400)');
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });

  it("check in a class: requests for /~e08/ (or /~e07x/) and the demo's are not e07's; e07's own are", async () => {
    const demo = await portlab(lab, ['lab', '04', '--lang', 'en']);
    expect(demo.code, demo.out).toBe(0);
    for (const home of ['/~e08/', '/~e07x/']) {
      await byHand([`GET ${home}missing HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']);
      await byHand([`HEAD ${home} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']);
      await byHand([`GET ${home} HTTP/1.1`, 'Connection: close']);
      await overTls(home);
    }
    const none = await portlab(lab, ['check', '04', '--user', 'e07', '--lang', 'en']);
    expect(none.code, none.out).toBe(1);
    expect(none.out).toContain('0/4 done; 4 still to do.');

    // %7E is ~ percent-encoded (RFC 3986 §2.3): the same page.
    expect(await byHand(['GET /%7Ee07/missing HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'])).toBe(
      'HTTP/1.1 404 Not Found',
    );
    await byHand(['HEAD /~e07/ HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']);
    await byHand(['GET /~e07/ HTTP/1.1', 'Connection: close']);
    expect(await overTls('/~e07/')).toBe('HTTP/1.1 200 OK');
    const done = await portlab(lab, ['check', '04', '--user', 'e07', '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code, done.out).toBe(0);
  });

  it("check in a class: a classmate's PC asking for e09's pages does not tick them; e09's PC (where e09 logged in) does", async () => {
    // e09 logged in from 127.0.0.1 (its FTP upload above); the classmate sits at 127.0.0.10.
    const classmate = '127.0.0.10';
    expect(
      await byHandFrom(classmate, ['GET /~e09/missing HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']),
    ).toBe('HTTP/1.1 404 Not Found');
    expect(await byHandFrom(classmate, ['GET /~e09/ HTTP/1.1', 'Connection: close'])).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    await byHandFrom(classmate, ['HEAD /~e09/ HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']);
    expect(await overTls('/~e09/', classmate)).toBe('HTTP/1.1 200 OK');
    const none = await portlab(lab, ['check', '04', '--user', 'e09', '--lang', 'en']);
    expect(none.code, none.out).toBe(1);
    expect(none.out).toContain('0/4 done; 4 still to do.');
    expect(none.out).toContain(
      'requests from another address than those your account logged in from, 127.0.0.1, do not count',
    );

    await byHand(['GET /~e09/missing HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']);
    await byHand(['GET /~e09/ HTTP/1.1', 'Connection: close']);
    await byHand(['HEAD /~e09/ HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close']);
    await overTls('/~e09/');
    const done = await portlab(lab, ['check', '04', '--user', 'e09', '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code, done.out).toBe(0);
  });

  it('the demo types requests by hand and prints the status lines, ports and the certificate', async () => {
    const demo = await portlab(lab, ['lab', '04', '--lang', 'en']);
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toContain(`$ nc -C 127.0.0.1 ${lab.ports.http}`);
    expect(demo.out).toMatch(
      new RegExp(
        `client 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${lab.ports.http} HTTP\\n\\s+C: GET / HTTP/1\\.1`,
      ),
    );
    expect(demo.out).toMatch(/Host: 127\.0\.0\.1\nConnection: close\n\nHTTP\/1\.1 200 OK\r?\n/);
    expect(demo.out).toMatch(/C: GET \/no-such-page HTTP\/1\.1\n\s+S: HTTP\/1\.1 404 Not Found/);
    expect(demo.out).toMatch(/GET \/ HTTP\/1\.1\nConnection: close\n\nHTTP\/1\.1 400 Bad Request\r?\n/);
    expect(demo.out).toMatch(/C: HEAD \/ HTTP\/1\.1\n\s+S: HTTP\/1\.1 200 OK/);
    // Over TLS: refused while nobody vouches for the certificate, accepted once it is trusted.
    expect(demo.out).toContain(`$ curl https://127.0.0.1:${lab.ports.https}/`);
    expect(demo.out).toMatch(/SELF_SIGNED/);
    expect(demo.out).toMatch(
      /subject {2}CN=portlab lab certificate\n\s+issuer {3}CN=portlab lab certificate/,
    );
    expect(demo.out).toMatch(/\$ curl --cacert \S+cert\.pem https:\S+\n\s+HTTP\/1\.1 200 OK/);
    expect(demo.out).toMatch(
      new RegExp(`-> 127\\.0\\.0\\.1:${lab.ports.https} HTTP\\n\\s+C: GET / HTTP/1\\.1`),
    );
  });
});
