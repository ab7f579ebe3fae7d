// The teacher's board (/lab/class, /api/class, /api/class/events): the real web, mail and files apps
// on free ports, a class of three students (e01, e02, e03) and a teacher in users.json, real clients
// (imapflow, basic-ftp) logging in as e01, and the board read as the teacher and as students.
//
// The lab says `web.loopbackIsTeacher: false`, the setting of a lab machine students share: the
// test's browser on 127.0.0.1 is then an ordinary browser, as one on the classroom LAN is. One
// describe builds a second web server in this process with the default (loopback = teacher).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ensureLabCertificate, UserStore } from '@portlab/config';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import type { ClassSnapshot, StudentEntry } from '@portlab/web';
import { Client as FtpClient } from 'basic-ftp';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';
import { CHROMIUM, hasChromium, launchChromium } from './browser.js';
import { cookieOf, postSignIn, signIn, withLoopbackTeacherWeb } from './session.js';

const STUDENTS = ['e01', 'e02', 'e03'];
const PASSWORD = (name: string) => `${name}-Desk42`;
const TEACHER = 'chalk-Board9';

let lab: TempLab;
const apps: RunningApp[] = [];
let base: string;
const cookies: Record<'teacher' | 'e01', string> = { teacher: '', e01: '' };

/**
 * Makes the class as `portlab class create` does (another part of issue #13): the accounts, then
 * their role in users.json (`UserStore.set` keeps only name and hash).
 */
async function makeClass(
  users: UserStore,
  roles: Record<string, 'student' | 'teacher'>,
  password: (n: string) => string,
) {
  for (const name of Object.keys(roles)) await users.set(name, password(name));
  const file = JSON.parse(readFileSync(users.file, 'utf8')) as { users: { name: string; role?: string }[] };
  for (const u of file.users) if (roles[u.name]) u.role = roles[u.name];
  writeFileSync(users.file, `${JSON.stringify(file, null, 2)}\n`);
}

const get = (url: string, cookie?: string) => fetch(`${base}${url}`, { headers: cookie ? { cookie } : {} });

/** The board as a teacher's page sees it: the `class` snapshot, then each `student` event applied. */
interface BoardStream {
  board(): ClassSnapshot | null;
  student(name: string): StudentEntry | undefined;
  /** Waits until `check` holds for the board, read from the stream. */
  until(check: (board: ClassSnapshot) => boolean, what: string): Promise<void>;
  close(): void;
}

async function openBoard(cookie: string, url = base): Promise<BoardStream> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/class/events`, { headers: { cookie }, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  let board: ClassSnapshot | null = null;
  const read = async () => {
    const { value, done } = await reader.read();
    if (done) throw new Error('the board stream ended');
    raw += decoder.decode(value, { stream: true });
    // Only whole events: a read may end in the middle of one.
    const blocks = raw.split('\n\n');
    raw = blocks.pop()!;
    for (const block of blocks) {
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      if (type === 'class') board = JSON.parse(data) as ClassSnapshot;
      if (type === 'student' && board) {
        const { student } = JSON.parse(data) as { student: StudentEntry };
        board = { ...board, students: board.students.map((s) => (s.name === student.name ? student : s)) };
      }
    }
  };
  const stream: BoardStream = {
    board: () => board,
    student: (name) => board?.students.find((s) => s.name === name),
    until: async (check, what) => {
      await waitFor(
        async () => {
          if (board && check(board)) return true;
          await read();
          return board !== null && check(board);
        },
        { what, timeoutMs: 60_000, intervalMs: 1 },
      );
    },
    close: () => abort.abort(),
  };
  await stream.until(() => true, 'the first snapshot of the board');
  return stream;
}

const services = (s: StudentEntry | undefined) => (s?.connected ?? []).map((c) => c.service).sort();

beforeAll(async () => {
  lab = await tempLab({ web: { loopbackIsTeacher: false } });
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure(); // alice and bob, the demo accounts: not students
  await makeClass(
    users,
    { ...Object.fromEntries(STUDENTS.map((s) => [s, 'student' as const])), teacher: 'teacher' },
    (name) => (name === 'teacher' ? TEACHER : PASSWORD(name)),
  );
  await ensureLabCertificate(path.join(lab.dataDir, 'tls'), ['127.0.0.1']);
  apps.push(...(await Promise.all([startApp(lab, 'web'), startApp(lab, 'mail'), startApp(lab, 'files')])));
  base = `http://127.0.0.1:${lab.ports.http}`;
  for (const [who, password] of [
    ['teacher', TEACHER],
    ['e01', PASSWORD('e01')],
  ] as const) {
    cookies[who] = await signIn(base, who, password);
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  lab?.cleanup();
});

describe('who may see the board', () => {
  it('refuses a student signed in, with a page that says why and nothing of any student', async () => {
    const page = await get('/lab/class', cookies.e01);
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await page.text();
    expect(text).toMatch(/teacher/);
    expect(text).toMatch(/enseignant/);
    expect(text).toContain('signed in as e01');
    for (const other of ['e02', 'e03']) expect(text).not.toContain(other);

    const api = await get('/api/class', cookies.e01);
    expect(api.status).toBe(403);
    const body = (await api.json()) as Record<string, unknown>;
    expect(body.error).toMatch(/teacher/);
    expect(body).not.toHaveProperty('students');

    const stream = await get('/api/class/events', cookies.e01);
    expect(stream.status).toBe(403);
    expect(stream.headers.get('content-type')).not.toMatch(/event-stream/);
    expect(await stream.text()).not.toMatch(/e02|e03|connected/);
  });

  it('refuses a browser not signed in, and one whose teacher password was wrong', async () => {
    const wrong = await postSignIn(base, 'teacher', 'not-the-Password1');
    expect(wrong.status).toBe(401);
    const stray = cookieOf(wrong);
    for (const cookie of [undefined, stray || undefined, 'portlab_signin=forged-token']) {
      expect((await get('/lab/class', cookie)).status).toBe(403);
      expect((await get('/api/class', cookie)).status).toBe(403);
      expect((await get('/api/class/events', cookie)).status).toBe(403);
    }
  });

  it('gives the teacher, signed in, the board: the three students, every lab, nobody else', async () => {
    const page = await get('/lab/class', cookies.teacher);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/lab/js/class-main.js');
    const res = await get('/api/class', cookies.teacher);
    expect(res.status).toBe(200);
    const board = (await res.json()) as ClassSnapshot;
    expect(board.students.map((s) => s.name)).toEqual(STUDENTS);
    expect(board.labs.map((l) => l.id)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
    for (const s of board.students) {
      expect(Object.keys(s.labs)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
      for (const lab of Object.values(s.labs)) {
        expect(lab.error).toBeUndefined();
        expect(lab.total).toBe(lab.items.length);
        expect(lab.done).toBe(lab.items.filter((i) => i.ok).length);
        for (const item of lab.items)
          expect(item.text).toEqual({ fr: expect.any(String), en: expect.any(String) });
      }
    }
    expect(Date.parse(board.updatedAt)).not.toBeNaN();
    expect(board.recompute.full?.students).toBe(STUDENTS.length);
    console.log(
      `class board: first round of checks for ${STUDENTS.length} students took ${board.recompute.full?.ms} ms`,
    );
  });
});

describe('the board, live', () => {
  it('shows e01 connected on IMAP while logged in, then not; a wrong password for e02 connects nobody', async () => {
    const board = await openBoard(cookies.teacher);
    try {
      expect(services(board.student('e01'))).toEqual([]);
      const wrong = new ImapFlow({
        host: '127.0.0.1',
        port: lab.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: { user: 'e02', pass: 'e02-Wrong1' },
        logger: false,
      });
      await expect(wrong.connect()).rejects.toThrow();
      const imap = new ImapFlow({
        host: '127.0.0.1',
        port: lab.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: { user: 'e01', pass: PASSWORD('e01') },
        logger: false,
      });
      await imap.connect();
      await board.until(() => services(board.student('e01'))[0] === 'imap', 'e01 connected on imap');
      const [connection] = board.student('e01')!.connected;
      expect(connection!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(Date.parse(connection!.since)).not.toBeNaN();
      expect(services(board.student('e02'))).toEqual([]);
      await imap.logout();
      await board.until(() => services(board.student('e01')).length === 0, 'e01 no longer connected');
      expect(services(board.student('e02'))).toEqual([]);
    } finally {
      board.close();
    }
  });

  it("turns e01's lab 3 items ✔ over SSE after e01 uploads a page by FTP, and no one else's", async () => {
    const board = await openBoard(cookies.teacher);
    try {
      await board.until(() => board.student('e01')?.labs['03'] !== undefined, "e01's lab 3 checked");
      const before = board.student('e01')!.labs['03']!;
      expect(before.done).toBe(0);
      const page = '<!doctype html>\n<title>e01</title>\n<h1>TP3 — la page de e01</h1>\n';
      const ftp = new FtpClient();
      try {
        await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'e01', password: PASSWORD('e01') });
        // Connected on FTP while the session is open: the board shows it.
        await board.until(() => services(board.student('e01')).includes('ftp'), 'e01 connected on ftp');
        await ftp.ensureDir('/public_html');
        await ftp.uploadFrom(Readable.from([Buffer.from(page)]), 'index.html');
        await board.until(() => {
          const lab3 = board.student('e01')?.labs['03'];
          return lab3 !== undefined && lab3.total > 0 && lab3.done === lab3.total;
        }, "every item of e01's lab 3 ✔ on the board");
      } finally {
        ftp.close();
      }
      await board.until(() => !services(board.student('e01')).includes('ftp'), 'e01 no longer on ftp');
      for (const other of ['e02', 'e03']) expect(board.student(other)!.labs['03']!.done).toBe(0);
      // The snapshot says the same as the stream.
      const snapshot = (await (await get('/api/class', cookies.teacher)).json()) as ClassSnapshot;
      const lab3 = snapshot.students.find((s) => s.name === 'e01')!.labs['03']!;
      expect(lab3.items.map((i) => i.ok)).toEqual(lab3.items.map(() => true));
      expect(lab3.items.some((i) => /title|titre/i.test(i.text.en + i.text.fr))).toBe(true);
    } finally {
      board.close();
    }
  });

  it("re-checks lab 2 for sender and recipients as mail is sent and read, not a bystander's", async () => {
    const board = await openBoard(cookies.teacher);
    const send = (user: string, pass: string, to: string) =>
      nodemailer
        .createTransport({
          host: '127.0.0.1',
          port: lab.ports.submission,
          secure: false,
          ignoreTLS: true,
          auth: { user, pass },
        })
        .sendMail({ from: `${user}@lab.test`, to: `${to}@lab.test`, subject: `TP2 ${user}`, text: 'hello' });
    const markRead = async (user: string) => {
      const imap = new ImapFlow({
        host: '127.0.0.1',
        port: lab.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: { user, pass: PASSWORD(user) },
        logger: false,
      });
      await imap.connect();
      await imap.mailboxOpen('INBOX');
      await imap.messageFlagsAdd('1:*', ['\\Seen']);
      await imap.logout();
    };
    const lab2 = (name: string) => board.student(name)?.labs['02'];
    try {
      await board.until(() => lab2('e02') !== undefined, "e02's lab 2 checked");
      expect(lab2('e02')!.done).toBe(0);
      // e02 writes to e03 (AUTH, the subject the sheet asks for), alice (a demo account) to e02.
      await send('e02', PASSWORD('e02'), 'e03');
      await send('alice', 'wonderland', 'e02');
      await markRead('e02');
      await board.until(() => (lab2('e02')?.done ?? 0) >= 2, "e02's lab 2 items ✔ for the message sent");
      // e03 reads e02's message: e02's last item (its recipient read it) turns ✔ with it.
      await markRead('e03');
      await board.until(() => {
        const l = lab2('e02');
        return l !== undefined && l.total > 0 && l.done === l.total;
      }, "every item of e02's lab 2 ✔");
      expect(lab2('e01')!.done).toBe(0);
    } finally {
      board.close();
    }
  });

  it('ends the stream of a teacher who signs out', async () => {
    const cookie = cookieOf(await postSignIn(base, 'teacher', TEACHER));
    const board = await openBoard(cookie);
    await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie } });
    // The next change of the board is not sent to a browser that is no longer the teacher's.
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: lab.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: 'e03', pass: PASSWORD('e03') },
      logger: false,
    });
    await imap.connect();
    await expect(board.until(() => false, 'the end of the stream')).rejects.toThrow(
      /stream ended|aborted|terminated/,
    );
    await imap.logout();
    expect(services(board.student('e03'))).toEqual([]);
  });
});

describe('a lab on one PC (web.loopbackIsTeacher, the default)', () => {
  it("gives the lab machine's own browser the board, and refuses a LAN address", async () => {
    await withLoopbackTeacherWeb(lab, async ({ app, port }) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/class`);
      expect(res.status).toBe(200);
      const board = (await res.json()) as ClassSnapshot;
      expect(board.students.map((s) => s.name)).toEqual(STUDENTS);
      expect((await fetch(`http://127.0.0.1:${port}/lab/class`)).status).toBe(200);
      // light-my-request: a request from a LAN address, made in memory (no packet leaves the machine).
      for (const url of ['/lab/class', '/api/class', '/api/class/events']) {
        const lan = await app.inject({ url, remoteAddress: '192.0.2.10' });
        expect(lan.statusCode).toBe(403);
        expect(lan.body).not.toMatch(/e01|e02|e03/);
      }
    });
  });
});

if (!hasChromium)
  console.warn(`class board page tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('the board page in headless Chromium', () => {
  it("draws the class live for the teacher, big and without addresses in projector mode, in French too; a student's browser gets the 403 page", async () => {
    const outputDir = fileURLToPath(new URL('./test-output/', import.meta.url));
    mkdirSync(outputDir, { recursive: true });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1366, height: 800 } });
      const [name, value] = cookies.teacher!.split('=') as [string, string];
      await context.addCookies([{ name, value, url: base }]);
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(`${base}/lab/class`);
      await page.locator('.status[data-state="live"]').waitFor();
      await page.locator('tr[data-student="e03"]').waitFor();
      expect(await page.locator('tbody tr').count()).toBe(STUDENTS.length);
      expect(await page.locator('h1').textContent()).toContain('Class board');
      expect(await page.locator('a[href="/lab/class/cards"]').count()).toBe(1);
      expect(await page.locator('thead th.lab').count()).toBe(8);
      await page.locator('tr[data-student="e01"] td.lab .mark').first().waitFor();

      // Live: e02 logs in over FTP, the row shows it, then no more once the session ends.
      const ftp = new FtpClient();
      await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'e02', password: PASSWORD('e02') });
      const badge = page.locator('tr[data-student="e02"] .service[data-service="ftp"]');
      await badge.waitFor();
      expect(await badge.getAttribute('title')).toMatch(/^ftp since .*, from 127\.0\.0\.1:\d+$/);
      await page.screenshot({ path: path.join(outputDir, 'class-board.png'), fullPage: true });
      ftp.close();
      await badge.waitFor({ state: 'detached' });

      // Projector: names and progress, no connections, no addresses, no check texts.
      await page.getByRole('button', { name: 'Projector mode' }).click();
      await page.locator('html.projector').waitFor();
      expect(page.url()).toMatch(/[?&]projector=1\b/);
      expect(await page.locator('td.connected').count()).toBe(0);
      const wall = (await page.content()).replace(/<script[\s\S]*?<\/script>/g, '');
      expect(wall).not.toMatch(/127\.0\.0\.1|title>[^<]*since|yet \(/);
      expect(await page.locator('tbody th').allTextContents()).toEqual(STUDENTS);
      await page.screenshot({ path: path.join(outputDir, 'class-board-projector.png'), fullPage: true });

      // French, and the mode kept in the address for the projector's browser.
      await page.getByRole('button', { name: 'Passer en français' }).click();
      expect(await page.locator('h1').textContent()).toContain('Tableau de la classe');
      await page.reload();
      await page.locator('html.projector').waitFor();
      expect(await page.locator('h1').textContent()).toContain('Tableau de la classe');
      expect(problems).toEqual([]);

      // A student's browser: the refusal, nothing drawn.
      const student = await browser.newContext({ locale: 'en-GB' });
      const [sname, svalue] = cookies.e01!.split('=') as [string, string];
      await student.addCookies([{ name: sname, value: svalue, url: base }]);
      const studentPage = await student.newPage();
      const res = await studentPage.goto(`${base}/lab/class`);
      expect(res?.status()).toBe(403);
      expect(await studentPage.locator('body').textContent()).toMatch(/teacher only/);
      expect(await studentPage.locator('tr[data-student]').count()).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
