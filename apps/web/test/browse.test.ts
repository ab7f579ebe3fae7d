import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, UserStore } from '@portlab/config';
import { type TempLab, tempLab, waitForHttp } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer, EventHub } from '../src/server.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let lab: TempLab;
let web: ChildProcess;
let base: string;

/** A multipart message as a mail client sends it: text and HTML, an RFC 2047 subject, quoted-printable. */
const MULTIPART = [
  'From: Bob <bob@lab.test>',
  'To: alice@lab.test',
  'Subject: =?UTF-8?B?Q2Fmw6kgw6AgMTBo?=',
  'Date: Tue, 04 Feb 2025 10:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Rendez-vous au caf=C3=A9 =',
  '=C3=A0 10h.',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p onclick="alert(1)">Rendez-vous</p>',
  '--b1--',
  '',
].join('\r\n');

const PLAIN = 'From: alice@lab.test\r\nTo: bob@lab.test\r\nSubject: sent one\r\n\r\nHello Bob\r\n';

function maildirMessage(folderDir: string, sub: 'cur' | 'new', name: string, text: string): void {
  for (const d of ['cur', 'new', 'tmp']) mkdirSync(path.join(folderDir, d), { recursive: true });
  writeFileSync(path.join(folderDir, sub, name), text);
}

const get = async (url: string) => {
  const res = await fetch(`${base}${url}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
};

beforeAll(async () => {
  lab = await tempLab();
  const mail = path.join(lab.dataDir, 'mail', 'alice');
  maildirMessage(mail, 'new', '1738663200.M1P1.lab', MULTIPART);
  maildirMessage(mail, 'cur', '1738663100.M2P1.lab:2,S', PLAIN);
  maildirMessage(path.join(mail, '.Sent'), 'cur', '1738663000.M3P1.lab:2,RS', PLAIN);
  // A link in a Maildir pointing out of it: never a message.
  symlinkSync('/etc/hostname', path.join(mail, 'cur', '1738662000.M9P1.lab:2,S'));

  const files = path.join(lab.dataDir, 'files', 'alice');
  mkdirSync(path.join(files, 'public_html'), { recursive: true });
  writeFileSync(path.join(files, 'public_html', 'index.html'), '<h1>Alice</h1>\n');
  writeFileSync(path.join(files, 'photo.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
  symlinkSync('/etc', path.join(files, 'etc-link'));
  mkdirSync(path.join(lab.dataDir, 'files', 'bob'), { recursive: true });
  writeFileSync(path.join(lab.dataDir, 'files', 'bob', 'secret.txt'), 'bob only\n');

  await new UserStore(path.join(lab.dataDir, 'users.json')).ensure(); // alice and bob
  web = fork(main, [], { env: lab.env, stdio: 'pipe' });
  base = `http://127.0.0.1:${lab.ports.http}`;
  await waitForHttp(`${base}/healthz`, 'the web app');
});

afterAll(async () => {
  web.kill('SIGTERM');
  await new Promise((resolve) => web.once('exit', resolve));
  lab.cleanup();
});

describe('mailboxes, read-only from Maildir++ on disk', () => {
  it('lists the accounts, then INBOX and the folders with their counts', async () => {
    expect((await get('/api/mail')).body).toEqual({ users: ['alice', 'bob'] }); // accounts, and folders on disk
    const { body } = await get('/api/mail/alice');
    expect(body.folders).toEqual([
      { name: 'INBOX', messages: 2, unread: 1 },
      { name: 'Sent', messages: 1, unread: 0 },
    ]);
  });

  it('lists a folder newest first, with decoded subjects and flags from the file name', async () => {
    const { body } = await get('/api/mail/alice/INBOX');
    const messages = body.messages as { id: string; subject: string; flags: string[] }[];
    expect(messages.map((m) => m.id).sort()).toEqual(['1738663100.M2P1.lab', '1738663200.M1P1.lab']);
    expect(messages.find((m) => m.id === '1738663200.M1P1.lab')).toMatchObject({
      subject: 'Café à 10h',
      flags: [],
    });
    expect(messages.find((m) => m.id === '1738663100.M2P1.lab')!.flags).toEqual(['\\Seen']);
    const sent = (await get('/api/mail/alice/Sent')).body.messages as { flags: string[] }[];
    expect(sent[0]!.flags).toEqual(['\\Answered', '\\Seen']);
  });

  it('shows a message as its text/plain part and its raw source, never its HTML rendered', async () => {
    const { status, body } = await get('/api/mail/alice/INBOX/1738663200.M1P1.lab');
    expect(status).toBe(200);
    expect(body.text).toBe('Rendez-vous au café à 10h.');
    expect(body.from).toBe('Bob <bob@lab.test>');
    expect(body.raw).toContain('Content-Type: text/html');
    expect(body.raw).toContain('<p onclick="alert(1)">');
  });

  it('refuses a bad user name, a folder name that climbs out, and says what is missing', async () => {
    const badUser = await get('/api/mail/..%2F..%2Fetc');
    expect(badUser.status).toBe(400);
    expect(badUser.body.error).toMatch(/not a user name/);
    expect((await get('/api/mail/Alice')).status).toBe(400);
    const climb = await get('/api/mail/alice/..%2F..%2F..%2Fetc');
    expect(climb.status).toBe(400);
    expect(climb.body.error).toMatch(/not a folder name/);
    expect((await get('/api/mail/alice/.Sent')).status).toBe(400);
    const noFolder = await get('/api/mail/alice/Nope');
    expect(noFolder.status).toBe(404);
    const nobody = await get('/api/mail/carol');
    expect(nobody.status).toBe(404);
    expect(nobody.body.error).toMatch(/nothing for carol yet/);
    const noMessage = await get('/api/mail/alice/INBOX/..%2F..%2F..%2Fusers.json');
    expect(noMessage.status).toBe(404);
    expect(noMessage.body.error).toMatch(/no message/);
  });

  it('does not take a symbolic link in a Maildir for a message', async () => {
    const { body } = await get('/api/mail/alice/INBOX');
    expect((body.messages as { id: string }[]).some((m) => m.id.startsWith('1738662000'))).toBe(false);
    expect((await get('/api/mail/alice/INBOX/1738662000.M9P1.lab')).status).toBe(404);
  });
});

describe("users' files, read-only, jailed in $DATA/files/<user>", () => {
  it('lists a folder (folders first) and shows a text file', async () => {
    const root = (await get('/api/files/alice')).body as {
      path: string;
      entries: { name: string; type: string }[];
    };
    expect(root.path).toBe('/');
    expect(root.entries.map((e) => [e.name, e.type])).toEqual([
      ['public_html', 'dir'],
      ['etc-link', 'link'],
      ['photo.bin', 'file'],
    ]);
    const file = await get(`/api/files/alice?path=${encodeURIComponent('/public_html/index.html')}`);
    expect(file.body).toMatchObject({
      type: 'file',
      path: '/public_html/index.html',
      text: '<h1>Alice</h1>\n',
    });
  });

  it('says a binary file is binary rather than showing bytes', async () => {
    const { body } = await get('/api/files/alice?path=photo.bin');
    expect(body).toMatchObject({ type: 'file', size: 7, text: null });
  });

  it('refuses every way out of the jail', async () => {
    for (const attempt of ['../bob/secret.txt', '/../../../etc/passwd', 'public_html/../../bob', '..']) {
      const res = await get(`/api/files/alice?path=${encodeURIComponent(attempt)}`);
      expect(res.status, attempt).toBe(403);
      expect(res.body.error, attempt).toMatch(/outside the user's folder/);
    }
    const link = await get('/api/files/alice?path=etc-link/passwd');
    expect(link.status).toBe(403);
    expect(link.body.error).toMatch(/symbolic link/);
    expect((await get('/api/files/alice?path=a%00b')).status).toBe(400);
    expect((await get('/api/files/..%2Fbob')).status).toBe(400);
    expect((await get('/api/files/alice?path=nope.txt')).status).toBe(404);
  });

  it('reads an absolute path from the user folder, as a chrooted FTP server does', async () => {
    const { body } = await get('/api/files/bob?path=/secret.txt');
    expect(body).toMatchObject({ path: '/secret.txt', text: 'bob only\n' });
  });
});

describe('who may see the mailboxes', () => {
  it('answers only a browser on the lab machine: they hold every user’s mail', async () => {
    const config = loadConfig({ file: lab.configFile, env: {} });
    const hub = new EventHub(config.paths.log);
    const app = await buildWebServer({ config, hub });
    // light-my-request makes the request in memory: no packet leaves the machine.
    const fromLan = await app.inject({ url: '/api/mail/alice', remoteAddress: '192.0.2.10' });
    expect(fromLan.statusCode).toBe(403);
    expect(fromLan.json().error).toMatch(/only to a browser on the lab machine/);
    expect((await app.inject({ url: '/api/files/alice', remoteAddress: '192.0.2.10' })).statusCode).toBe(403);
    expect((await app.inject({ url: '/api/mail/alice', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/lab', remoteAddress: '192.0.2.10' })).statusCode).toBe(200);
    await app.close();
    hub.close();
  });
});

describe('the event stream, bad input', () => {
  it('refuses a Last-Event-ID or ?since= that is not an event id, and a bad ?tail=', async () => {
    const header = await fetch(`${base}/api/events`, { headers: { 'last-event-id': 'yesterday' } });
    expect(header.status).toBe(400);
    expect(((await header.json()) as { error: string }).error).toMatch(/not an event id/);
    expect((await fetch(`${base}/api/events?since=12`)).status).toBe(400);
    expect((await fetch(`${base}/api/events?tail=-1`)).status).toBe(400);
    expect((await fetch(`${base}/api/events?tail=99999`)).status).toBe(400);
  });
});
