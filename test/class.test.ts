// `portlab class`: the real command (packages/cli/dist) on temp labs, the real mail, files and web
// apps for what a class does with its accounts: log in over IMAP and FTP, get mail, publish a page,
// print the cards, then be wiped by `class reset` and exported by `class export`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { UserStore } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import { Client as FtpClient } from 'basic-ftp';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, runCli, startApp } from './apps.js';
import { signIn } from './session.js';

const labs: TempLab[] = [];
const apps: RunningApp[] = [];
async function newLab(extra = {}): Promise<TempLab> {
  const lab = await tempLab(extra);
  labs.push(lab);
  return lab;
}
async function start(lab: TempLab, name: 'web' | 'mail' | 'files'): Promise<RunningApp> {
  const app = await startApp(lab, name);
  apps.push(app);
  return app;
}
afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  for (const lab of labs) lab.cleanup();
});

/** `portlab ARGS…` to its end: exit code and everything it printed. */
async function portlab(lab: TempLab, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const run = runCli(lab, ...args);
  const code = await run.exit;
  return { code, out: run.output() };
}

const cardsPath = (lab: TempLab) => path.join(lab.dataDir, 'class', 'cards.html');

/** account -> password, as the English cards print them. */
function cardsOf(lab: TempLab): Map<string, string> {
  const html = readFileSync(cardsPath(lab), 'utf8');
  const pairs = html.matchAll(
    /<dt>Account<\/dt><dd><code>([^<]+)<\/code><\/dd>\s*<dt>Password<\/dt><dd><code class="secret">([^<]+)<\/code>/g,
  );
  return new Map([...pairs].map((m) => [m[1]!, m[2]!]));
}

async function imapLogin(lab: TempLab, user: string, pass: string): Promise<boolean> {
  const imap = new ImapFlow({
    host: '127.0.0.1',
    port: lab.ports.imap,
    secure: false,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    logger: false,
  });
  try {
    await imap.connect();
    await imap.logout();
    return true;
  } catch (err) {
    if ((err as { authenticationFailed?: boolean }).authenticationFailed) return false;
    throw err;
  }
}

async function ftpUpload(
  lab: TempLab,
  user: string,
  password: string,
  file: string,
  text: string,
): Promise<void> {
  const client = new FtpClient();
  try {
    await client.access({ host: '127.0.0.1', port: lab.ports.ftp, user, password });
    await client.uploadFrom(Readable.from([Buffer.from(text)]), file);
  } finally {
    client.close();
  }
}

/** The files of a folder and its subfolders, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const STUDENTS = Array.from({ length: 30 }, (_, i) => `e${String(i + 1).padStart(2, '0')}`);

describe('a class of 30: create, log in, cards, export, reset', () => {
  let lab: TempLab;
  let cards: Map<string, string>;
  let running: RunningApp[] = [];
  beforeAll(async () => {
    lab = await newLab();
    // The web app first: it makes users.json with the demo accounts, as `portlab up` would.
    running.push(await start(lab, 'web'));
  });

  it('says 404, to the teacher on loopback, while there is no class', async () => {
    const res = await fetch(`http://127.0.0.1:${lab.ports.http}/lab/class/cards`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/no class yet.*portlab class create/);
  });

  it('refuses reset and export while there is no class (exit 2, how to make one), writing nothing', async () => {
    const out = path.join(lab.dataDir, 'no-class.csv');
    for (const args of [
      ['class', 'reset'],
      ['class', 'export', '--out', out],
    ]) {
      const run = await portlab(lab, ...args);
      expect(run.code, run.out).toBe(2);
      expect(run.out).toMatch(/no class here: make one with 'portlab class create --students 30'/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('makes 30 students and a teacher, each with a role, a mailbox, an FTP home, and a card (0600)', async () => {
    const { code, out } = await portlab(lab, 'class', 'create', '--students', '30', '--lang', 'en');
    expect(code, out).toBe(0);
    const teacherPassword = /Teacher: teacher \/ (\S+)/.exec(out)?.[1];
    expect(teacherPassword, out).toMatch(/^[a-z]{4}-[a-z]{4}-[a-z]{4}-[2-9]{2}$/);

    const store = new UserStore(path.join(lab.dataDir, 'users.json'));
    expect(store.students()).toEqual(STUDENTS);
    expect(store.list().map((u) => [u.name, u.role])).toEqual([
      ['alice', undefined],
      ['bob', undefined],
      ...STUDENTS.map((n) => [n, 'student']),
      ['teacher', 'teacher'],
    ]);
    expect(await store.authenticate('teacher', teacherPassword!)).toBe('teacher');

    expect(statSync(cardsPath(lab)).mode & 0o777).toBe(0o600);
    cards = cardsOf(lab);
    expect([...cards.keys()]).toEqual(STUDENTS);
    const passwords = [...cards.values()];
    // Easy to type: syllables without look-alike letters, two digits; none twice.
    for (const p of passwords)
      expect(p).toMatch(/^[bdfghjkmnprstvz][aeiu][bdfghjkmnprstvz][aeiu]-[a-z]{4}-[2-9]{2}$/);
    expect(new Set(passwords).size).toBe(30);
    expect(readFileSync(cardsPath(lab), 'utf8')).not.toContain(teacherPassword);
    // Each card: the mail address, the ~page, the ports.
    const html = readFileSync(cardsPath(lab), 'utf8');
    expect(html).toContain('e07@lab.test');
    expect(html).toContain(`http://127.0.0.1:${lab.ports.http}/~e07/`);
    expect(html).toContain(`<td>imap</td><td>${lab.ports.imap}</td>`);
    for (const user of STUDENTS) {
      expect(existsSync(path.join(lab.dataDir, 'files', user, 'public_html')), user).toBe(true);
      expect(existsSync(path.join(lab.dataDir, 'mail', user, 'cur')), user).toBe(true);
    }
    // Every password is the account's, and only its own.
    for (const [user, password] of cards) expect(await store.authenticate(user, password)).toBe(user);
    expect(await store.authenticate('e07', cards.get('e08')!)).toBeNull();
    const web = await fetch(`http://127.0.0.1:${lab.ports.http}/~e07/`);
    expect(web.status).toBe(200);
  });

  it('refuses a second class without --replace, and changes nothing', async () => {
    const before = readFileSync(path.join(lab.dataDir, 'users.json'), 'utf8');
    const { code, out } = await portlab(lab, 'class', 'create', '--students', '5');
    expect(code).toBe(2);
    expect(out).toMatch(/a class of 30 students exists already \(e01 … e30\).*--replace/s);
    expect(readFileSync(path.join(lab.dataDir, 'users.json'), 'utf8')).toBe(before);
  });

  it('serves the cards to the teacher on loopback, never cached', async () => {
    const res = await fetch(`http://127.0.0.1:${lab.ports.http}/lab/class/cards`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    for (const password of cards.values()) expect(html).toContain(password);
  });

  it('lets students log in with their card over IMAP and FTP; another student’s password is refused', async () => {
    running.push(await start(lab, 'mail'), await start(lab, 'files'));
    expect(await imapLogin(lab, 'e07', cards.get('e07')!)).toBe(true);
    expect(await imapLogin(lab, 'e07@lab.test', cards.get('e07')!)).toBe(true);
    expect(await imapLogin(lab, 'e07', cards.get('e08')!)).toBe(false);
    await ftpUpload(
      lab,
      'e12',
      cards.get('e12')!,
      'public_html/index.html',
      '<title>e12</title><h1>e12</h1>',
    );
    await expect(ftpUpload(lab, 'e12', cards.get('e13')!, 'x.txt', 'x')).rejects.toThrow(/530/);
    expect(await (await fetch(`http://127.0.0.1:${lab.ports.http}/~e12/`)).text()).toContain('<h1>e12</h1>');
  });

  it('exports progress as CSV that python3’s csv module reads: one row per student and check item', async () => {
    const out = path.join(lab.dir, 'progress.csv');
    const run = await portlab(lab, 'class', 'export', '--out', out);
    expect(run.code, run.out).toBe(0);
    const rows = JSON.parse(
      execFileSync('python3', [
        '-c',
        'import csv, json, sys\nwith open(sys.argv[1], newline="") as f: print(json.dumps(list(csv.reader(f, strict=True))))',
        out,
      ]).toString(),
    ) as string[][];
    expect(rows[0]).toEqual(['student', 'lab', 'item', 'ok', 'text']);
    const body = rows.slice(1);
    expect(new Set(body.map((r) => r[0]))).toEqual(new Set(STUDENTS));
    expect(new Set(body.map((r) => r[1]))).toEqual(new Set(['01', '02', '03', '04', '05', '06', '07', '08']));
    for (const row of body) {
      expect(row).toHaveLength(5);
      expect(['0', '1']).toContain(row[3]);
    }
    // Every student has as many items of each lab; e12 published a page with a title, e13 did not.
    const itemsOf = (user: string) => body.filter((r) => r[0] === user);
    const labsOf = (user: string) => itemsOf(user).map((r) => r[1]);
    expect(labsOf('e12')).toEqual(labsOf('e13'));
    // The item column is the same for every student, for a spreadsheet to group by; the text says
    // it for this student (lab 3's page at /~e12/).
    const idsOf = (user: string) => itemsOf(user).map((r) => `${r[1]} ${r[2]}`);
    expect(idsOf('e12')).toEqual(idsOf('e13'));
    expect(idsOf('e12')).toContain('03 online');
    expect(itemsOf('e12').find((r) => r[1] === '03' && r[2] === 'online')![4]).toContain('/~e12/');
    const done = (user: string) => itemsOf(user).filter((r) => r[1] === '03' && r[3] === '1').length;
    expect(done('e12')).toBeGreaterThan(done('e13'));
    // To standard output too, the same rows (stderr may say the apps run without `portlab up`).
    const stdout = await portlab(lab, 'class', 'export');
    expect(stdout.code).toBe(0);
    expect(stdout.out).toContain(readFileSync(out, 'utf8'));
  });

  /** The messages in a user's Maildir++, every folder (cur/ and new/; not the empty folders' marker files). */
  const messagesOf = (user: string) =>
    filesUnder(path.join(lab.dataDir, 'mail', user)).filter((f) => /(^|\/)(cur|new)\//.test(f));

  it('reset: refused while the lab runs; then wipes the students’ mail and files, not alice’s; passwords kept', async () => {
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: lab.ports.smtp,
      secure: false,
      ignoreTLS: true,
    });
    for (const to of ['e07@lab.test', 'alice@lab.test']) {
      await smtp.sendMail({ from: 'bob@lab.test', to, subject: 'before the reset', text: 'hello' });
    }
    await ftpUpload(lab, 'e07', cards.get('e07')!, 'notes.txt', 'e07 notes');
    await ftpUpload(lab, 'alice', 'wonderland', 'notes.txt', 'alice notes');
    expect(messagesOf('e07')).toHaveLength(1);

    const refused = await portlab(lab, 'class', 'reset');
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/the (web|mail|files) app \(pid \d+\).*stop it first/);
    expect(existsSync(path.join(lab.dataDir, 'files', 'e07', 'notes.txt'))).toBe(true);

    await Promise.all(running.map((a) => a.stop()));
    running = [];
    const reset = await portlab(lab, 'class', 'reset');
    expect(reset.code, reset.out).toBe(0);
    expect(messagesOf('e07')).toEqual([]);
    expect(filesUnder(path.join(lab.dataDir, 'files', 'e07'))).toEqual([]);
    expect(filesUnder(path.join(lab.dataDir, 'files', 'e12'))).toEqual([]);
    expect(existsSync(path.join(lab.dataDir, 'files', 'e07', 'public_html'))).toBe(true);
    expect(existsSync(path.join(lab.dataDir, 'mail', 'e07', 'new'))).toBe(true);
    expect(readFileSync(path.join(lab.dataDir, 'files', 'alice', 'notes.txt'), 'utf8')).toBe('alice notes');
    expect(messagesOf('alice')).toHaveLength(1);
    // The transcripts moved to the archive: the new class starts with none.
    expect(readdirSync(path.join(lab.dataDir, 'log'))).toEqual([]);
    expect(readdirSync(path.join(lab.dataDir, 'class', 'archive'))).toHaveLength(1);
    const store = new UserStore(path.join(lab.dataDir, 'users.json'));
    expect(await store.authenticate('e07', cards.get('e07')!)).toBe('e07');
    expect(cardsOf(lab)).toEqual(cards);
  });

  it('reset --renew-passwords: new passwords, new cards; the old ones open nothing', async () => {
    const { code, out } = await portlab(lab, 'class', 'reset', '--renew-passwords', '--lang', 'en');
    expect(code, out).toBe(0);
    const renewed = cardsOf(lab);
    expect([...renewed.keys()]).toEqual(STUDENTS);
    expect(statSync(cardsPath(lab)).mode & 0o777).toBe(0o600);
    const store = new UserStore(path.join(lab.dataDir, 'users.json'));
    expect(await store.authenticate('e07', cards.get('e07')!)).toBeNull();
    expect(await store.authenticate('e07', renewed.get('e07')!)).toBe('e07');
    expect(store.students()).toEqual(STUDENTS);
    expect(await store.authenticate('alice', 'wonderland')).toBe('alice');
  });
});

describe('a class from a names file', () => {
  it('refuses a file with a bad line, naming its line, and creates nothing', async () => {
    const lab = await newLab();
    const names = path.join(lab.dir, 'names.csv');
    writeFileSync(names, 'Zoé;Martin\n\n!!!\nAnna;Berg;extra\n');
    const { code, out } = await portlab(lab, 'class', 'create', '--from', names);
    expect(code).toBe(2);
    expect(out).toContain(`${names}:3: no letter a-z or digit`);
    expect(out).toContain(`${names}:4: 3 columns`);
    expect(out).toMatch(/nothing was created/);
    const store = new UserStore(path.join(lab.dataDir, 'users.json'));
    expect(store.list().map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(existsSync(cardsPath(lab))).toBe(false);
  });

  it('makes safe names: accents stripped, namesakes and demo names numbered, a header skipped; --replace', async () => {
    const lab = await newLab();
    const names = path.join(lab.dir, 'names.csv');
    writeFileSync(
      names,
      '\uFEFFprénom,nom\r\nZoé,Martin\r\nZoe,MARTIN\r\n"Jean-Éric","Dupont"\r\nAlice,\r\nÇa O\'Neil\r\n',
    );
    const { code, out } = await portlab(lab, 'class', 'create', '--from', names, '--lang', 'fr');
    expect(code, out).toBe(0);
    const store = new UserStore(path.join(lab.dataDir, 'users.json'));
    expect(store.students()).toEqual([
      'zoe.martin',
      'zoe.martin2',
      'jean.eric.dupont',
      'alice2',
      'ca.o.neil',
    ]);
    expect(out).toContain('zoe.martin2 (line 3');
    // The cards carry the names as written, in French.
    const html = readFileSync(cardsPath(lab), 'utf8');
    expect(html).toContain('Jean-Éric Dupont');
    expect(html).toContain('Mot de passe');

    // --replace: the names-file class goes, with its data; the demo accounts stay.
    writeFileSync(path.join(lab.dataDir, 'files', 'zoe.martin', 'notes.txt'), 'zoe');
    const replaced = await portlab(lab, 'class', 'create', '--students', '2', '--replace');
    expect(replaced.code, replaced.out).toBe(0);
    expect(replaced.out).toMatch(/removed the 5 accounts of the last class and their data/);
    expect(store.students()).toEqual(['e01', 'e02']);
    expect(store.find('zoe.martin')).toBeUndefined();
    expect(existsSync(path.join(lab.dataDir, 'files', 'zoe.martin'))).toBe(false);
    expect(await store.authenticate('alice', 'wonderland')).toBe('alice');
  });
});

describe('who may open the cards, on a lab whose own browser is not the teacher (loopbackIsTeacher: false)', () => {
  it('403 to a browser signed in as a student and to one not signed in; 200 to the teacher signed in', async () => {
    const lab = await newLab({ web: { loopbackIsTeacher: false } });
    const { code, out } = await portlab(lab, 'class', 'create', '--students', '3', '--lang', 'en');
    expect(code, out).toBe(0);
    const teacher = /Teacher: teacher \/ (\S+)/.exec(out)![1]!;
    const cards = cardsOf(lab);
    await start(lab, 'web');
    const base = `http://127.0.0.1:${lab.ports.http}`;
    const cardsAs = (cookie?: string) =>
      fetch(`${base}/lab/class/cards`, { headers: cookie ? { cookie } : {} });

    const anonymous = await cardsAs();
    expect(anonymous.status).toBe(403);
    const student = await cardsAs(await signIn(base, 'e02', cards.get('e02')!));
    expect(student.status).toBe(403);
    const text = await student.text();
    expect(text).toMatch(/only the teacher may open them/);
    expect(text).not.toContain(cards.get('e02')!);
    const byTeacher = await cardsAs(await signIn(base, 'teacher', teacher));
    expect(byTeacher.status).toBe(200);
    expect(await byTeacher.text()).toContain(cards.get('e03')!);
  });
});
