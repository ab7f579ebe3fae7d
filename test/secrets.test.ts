// Whose passwords a browser sees: the real web, mail and files apps on free ports, real clients
// typing zoe's password (right and wrong) over FTP, IMAP, SMTP and POP3, and /api/events read by
// four viewers — not signed in, signed in as bob, as zoe, as the teacher. Then what zoe's sessions
// say once logged in (the subject she sends and reads, the name of the file she uploads): hers and
// the teacher's to read, only the command words for anyone else.
//
// The lab here says `web.loopbackIsTeacher: false`, the setting for a lab machine students share:
// the test's browser on 127.0.0.1 is then an ordinary browser, as one on the classroom LAN is.
import { connect } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ensureLabCertificate, UserStore } from '@portlab/config';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { Client as FtpClient } from 'basic-ftp';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';
import { postSignIn, withLoopbackTeacherWeb } from './session.js';

const ZOE = 'zoe-Secret1';
const TEACHER = 'chalk-Board9';
/** Zoe's wrong tries: still zoe's secrets (a typo is often one letter away from the password). */
const WRONG = { ftp: 'zoe-Wrong2', imap: 'zoe-Wrong3', smtp: 'zoe-Wrong4', pop3: 'zoe-Wrong5' };
/** Sent in an AUTH PLAIN the server cannot read (no NUL separators): whose it is cannot be told. */
const ORPHAN = 'zoe-Orphan6';

const b64 = (text: string) => Buffer.from(text).toString('base64');
/** Every secret of zoe's as it goes on the wire: in clear (PASS, LOGIN), or base64 (AUTH). */
const ZOE_SECRETS = [
  ZOE,
  WRONG.ftp,
  WRONG.imap,
  b64(`\0zoe\0${ZOE}`),
  b64(WRONG.smtp),
  b64(`\0zoe\0${WRONG.pop3}`),
];
const ALL_SECRETS = [...ZOE_SECRETS, b64(ORPHAN)];

/** What zoe's logged-in sessions carry: the subject of her mail, the name of her file. */
const SUBJECT = 'note to self';
const FILE = 'zoe-diary.txt';

/** Connections the clients below make to the mail and files apps, and the login tries among them. */
const SESSIONS = 10;
const LOGIN_TRIES = 9;

let lab: TempLab;
const apps: RunningApp[] = [];
let base: string;
const cookies: Record<'bob' | 'zoe' | 'teacher', string> = { bob: '', zoe: '', teacher: '' };

interface Received {
  id: string;
  type: string;
  service: string;
  line?: string;
  flags?: string[];
  masked?: boolean;
  private?: boolean;
  user?: string | null;
  data?: Record<string, unknown>;
}

/** The `name=value` of the sign-in cookie a response set. */
function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  expect(set).toMatch(/HttpOnly/);
  expect(set).toMatch(/SameSite=Strict/);
  return set.split(';')[0]!;
}

/**
 * What /api/events sends one viewer (its cookie, or none), read until every session of the clients
 * has closed: a session's lines come before its close, so by then every secret was sent or not.
 */
async function eventsSeenBy(
  cookie: string | undefined,
  start: { tail: number } | { lastEventId: string } = { tail: 5000 },
): Promise<{ raw: string; events: Received[] }> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if ('lastEventId' in start) headers['last-event-id'] = start.lastEventId;
  const query = 'tail' in start ? `?tail=${start.tail}` : '';
  const abort = new AbortController();
  const res = await fetch(`${base}/api/events${query}`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const events: Received[] = [];
  const mailAndFiles = (e: Received) => e.service !== 'http' && e.service !== 'https';
  try {
    await waitFor(
      async () => {
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        raw += decoder.decode(value, { stream: true });
        events.length = 0;
        // Only whole events: a read may end in the middle of one, and its rest comes next read.
        for (const block of raw.split('\n\n').slice(0, -1)) {
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id && data && /^event: transcript$/m.test(block)) events.push({ id, ...JSON.parse(data) });
        }
        const closes = events.filter((e) => e.type === 'close' && mailAndFiles(e)).length;
        const logins = events.filter((e) => e.type === 'login').length;
        return closes >= SESSIONS && logins >= LOGIN_TRIES;
      },
      { what: 'every session of the clients, closed', timeoutMs: 60_000, intervalMs: 1 },
    );
  } finally {
    abort.abort();
  }
  return { raw, events };
}

const credentialLines = (events: Received[], service?: string) =>
  events
    .filter((e) => e.type === 'line' && e.flags?.includes('credentials'))
    .filter((e) => !service || e.service === service)
    .map((e) => e.line);

/** A client typing lines by hand, as `nc` does: `until` reads the server's lines up to one matching. */
async function typed(port: number, script: [send: string | null, until: RegExp][]): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  let buffer = '';
  const waiting: { until: RegExp; resolve: () => void }[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\r\n');
    buffer = lines.pop()!;
    for (const line of lines) if (waiting[0]?.until.test(line)) waiting.shift()!.resolve();
  });
  for (const [send, until] of script) {
    const answered = new Promise<void>((resolve) => waiting.push({ until, resolve }));
    if (send !== null) socket.write(`${send}\r\n`);
    await answered;
  }
  socket.destroy();
  await new Promise((resolve) => socket.once('close', resolve));
}

beforeAll(async () => {
  lab = await tempLab({ web: { loopbackIsTeacher: false } });
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure(); // alice and bob (builder)
  await users.set('zoe', ZOE);
  await users.set('teacher', TEACHER);
  // Made once here: three apps starting at once would each make their own.
  await ensureLabCertificate(path.join(lab.dataDir, 'tls'), ['127.0.0.1']);
  apps.push(...(await Promise.all([startApp(lab, 'web'), startApp(lab, 'mail'), startApp(lab, 'files')])));
  base = `http://127.0.0.1:${lab.ports.http}`;

  for (const [who, password] of [
    ['bob', 'builder'],
    ['zoe', ZOE],
    ['teacher', TEACHER],
  ] as const) {
    const res = await postSignIn(base, who, password);
    expect(res.status).toBe(200);
    cookies[who] = cookieOf(res);
  }

  // FTP (basic-ftp): a wrong password, then the right one; the session that logged in uploads a file.
  const wrongFtp = new FtpClient();
  await expect(
    wrongFtp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'zoe', password: WRONG.ftp }),
  ).rejects.toThrow(/530/);
  wrongFtp.close();
  const ftp = new FtpClient();
  await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: 'zoe', password: ZOE });
  await ftp.uploadFrom(Readable.from(['dear diary']), FILE);
  ftp.close();

  // IMAP: imapflow logs in; a hand-typed LOGIN with a wrong password.
  const zoeImap = () =>
    new ImapFlow({
      host: '127.0.0.1',
      port: lab.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user: 'zoe', pass: ZOE },
      logger: false,
    });
  const imap = zoeImap();
  await imap.connect();
  await imap.logout();
  await typed(lab.ports.imap, [
    [null, /^\* OK/],
    [`a LOGIN zoe ${WRONG.imap}`, /^a NO/],
    ['b LOGOUT', /^b OK/],
  ]);

  // SMTP submission: nodemailer sends zoe's mail to herself (AUTH PLAIN); a hand-typed AUTH LOGIN,
  // user name and password as base64 lines, with a wrong password; an AUTH PLAIN nobody can read.
  await nodemailer
    .createTransport({
      host: '127.0.0.1',
      port: lab.ports.submission,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'zoe', pass: ZOE, method: 'PLAIN' },
    })
    .sendMail({ from: 'zoe@lab.test', to: 'zoe@lab.test', subject: SUBJECT, text: 'hi' });
  // IMAP again: zoe reads her mail's envelope (its subject comes back in the FETCH answer).
  const reader = zoeImap();
  await reader.connect();
  await reader.mailboxOpen('INBOX');
  const envelope = await reader.fetchOne('*', { envelope: true });
  expect(envelope ? envelope.envelope?.subject : undefined).toBe(SUBJECT);
  await reader.logout();
  await typed(lab.ports.submission, [
    [null, /^220 /],
    ['EHLO me', /^250 /],
    ['AUTH LOGIN', /^334 /],
    [b64('zoe'), /^334 /],
    [b64(WRONG.smtp), /^535 /],
    ['QUIT', /^221 /],
  ]);
  await typed(lab.ports.submission, [
    [null, /^220 /],
    ['EHLO me', /^250 /],
    [`AUTH PLAIN ${b64(ORPHAN)}`, /^[45]\d\d /],
    ['QUIT', /^221 /],
  ]);

  // POP3 typed by hand: USER/PASS, then AUTH PLAIN with a wrong password.
  await typed(lab.ports.pop3, [
    [null, /^\+OK/],
    ['USER zoe', /^\+OK/],
    [`PASS ${ZOE}`, /^\+OK/],
    ['QUIT', /^\+OK/],
  ]);
  await typed(lab.ports.pop3, [
    [null, /^\+OK/],
    [`AUTH PLAIN ${b64(`\0zoe\0${WRONG.pop3}`)}`, /^-ERR/],
    ['QUIT', /^\+OK/],
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  lab?.cleanup();
});

describe("zoe's passwords on /api/events", () => {
  it('are masked for a browser that is not signed in, command words kept', async () => {
    const { raw, events } = await eventsSeenBy(undefined);
    for (const secret of ALL_SECRETS) expect(raw).not.toContain(secret);
    expect(credentialLines(events, 'ftp')).toEqual(['PASS ••••••', 'PASS ••••••']);
    expect(credentialLines(events, 'imap')).toContain('a LOGIN zoe ••••••');
    expect(credentialLines(events, 'submission')).toEqual(
      expect.arrayContaining(['AUTH PLAIN ••••••', 'AUTH LOGIN', '••••••']),
    );
    expect(credentialLines(events, 'pop3')).toEqual(['PASS ••••••', 'AUTH PLAIN ••••••']);
    const masked = events.filter((e) => e.masked);
    expect(masked.length).toBeGreaterThanOrEqual(8);
    // Who tried to log in is no secret (USER zoe is on the wire too): the page says it.
    expect(events.filter((e) => e.type === 'login').map((e) => e.user)).toEqual(
      Array(LOGIN_TRIES).fill('zoe'),
    );
  });

  it('are masked for another student, bob', async () => {
    const { raw, events } = await eventsSeenBy(cookies.bob);
    for (const secret of ALL_SECRETS) expect(raw).not.toContain(secret);
    expect(credentialLines(events, 'ftp')).toEqual(['PASS ••••••', 'PASS ••••••']);
  });

  it('are in clear for zoe, failed tries too, but not a line whose owner cannot be told', async () => {
    const { raw, events } = await eventsSeenBy(cookies.zoe);
    for (const secret of ZOE_SECRETS) expect(raw).toContain(secret);
    expect(credentialLines(events, 'ftp')).toEqual([`PASS ${WRONG.ftp}`, `PASS ${ZOE}`]);
    expect(credentialLines(events, 'imap')).toContain(`a LOGIN zoe ${WRONG.imap}`);
    // AUTH LOGIN: the user name's base64 line came before the server knew whose it was.
    expect(credentialLines(events, 'submission')).toEqual(
      expect.arrayContaining([b64('zoe'), b64(WRONG.smtp), 'AUTH PLAIN ••••••']),
    );
    expect(raw).not.toContain(b64(ORPHAN));
  });

  it('are all in clear for the teacher', async () => {
    const { raw } = await eventsSeenBy(cookies.teacher);
    for (const secret of ALL_SECRETS) expect(raw).toContain(secret);
  });

  it('stay masked when a stream resumes with Last-Event-ID, and in clear for their owner', async () => {
    const { events } = await eventsSeenBy(cookies.bob);
    // The first event of the lab: a resume from it sends everything again.
    const lastEventId = events[0]!.id;
    const bob = await eventsSeenBy(cookies.bob, { lastEventId });
    for (const secret of ALL_SECRETS) expect(bob.raw).not.toContain(secret);
    expect(credentialLines(bob.events, 'ftp')).toEqual(['PASS ••••••', 'PASS ••••••']);
    const anonymous = await eventsSeenBy(undefined, { lastEventId });
    for (const secret of ALL_SECRETS) expect(anonymous.raw).not.toContain(secret);
    const zoe = await eventsSeenBy(cookies.zoe, { lastEventId });
    expect(credentialLines(zoe.events, 'ftp')).toEqual([`PASS ${WRONG.ftp}`, `PASS ${ZOE}`]);
  });

  it('are masked again once zoe signs out', async () => {
    const res = await postSignIn(base, 'zoe', ZOE);
    const cookie = cookieOf(res);
    expect((await eventsSeenBy(cookie)).raw).toContain(ZOE);
    const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(await out.json()).toMatchObject({ account: null, teacher: false });
    const after = await eventsSeenBy(cookie);
    for (const secret of ALL_SECRETS) expect(after.raw).not.toContain(secret);
  });
});

describe("what zoe's sessions say once logged in, on /api/events", () => {
  const privateLines = (events: Received[], service: string) =>
    events.filter((e) => e.type === 'line' && e.private && e.service === service).map((e) => e.line);

  it('shows another student and a browser not signed in only the command words and reply codes', async () => {
    for (const cookie of [cookies.bob, undefined]) {
      const { raw, events } = await eventsSeenBy(cookie);
      expect(raw).not.toContain(SUBJECT);
      expect(raw).not.toContain('zoe-diary');
      expect(privateLines(events, 'ftp')).toContain('STOR ••••••');
      expect(privateLines(events, 'ftp')).toContain('226 ••••••');
      expect(privateLines(events, 'imap').some((l) => /^\* \d+ FETCH ••••••$/.test(l ?? ''))).toBe(true);
      expect(privateLines(events, 'submission')).toContain('RCPT ••••••');
      // The FTP chart keeps its kinds and numbers, never a name (a file's, a folder's).
      const stor = events.find((e) => e.private && e.data?.verb === 'STOR');
      expect(stor?.data).toEqual({ event: 'command', verb: 'STOR' });
      // What came before the login stays public: the greeting, USER zoe.
      expect(events.some((e) => e.type === 'line' && !e.private && e.line === 'USER zoe')).toBe(true);
    }
  });

  it('shows zoe and the teacher everything', async () => {
    for (const cookie of [cookies.zoe, cookies.teacher]) {
      const { raw, events } = await eventsSeenBy(cookie);
      expect(raw).toContain(SUBJECT);
      expect(raw).toContain(`STOR ${FILE}`);
      expect(events.some((e) => e.private)).toBe(false);
    }
  });
});

describe('signing in', () => {
  it('says who the browser is', async () => {
    const who = async (cookie?: string) =>
      (await fetch(`${base}/api/session`, { headers: cookie ? { cookie } : {} })).json();
    expect(await who()).toEqual({ account: null, teacher: false, loopbackTeacher: false });
    expect(await who(cookies.zoe)).toEqual({ account: 'zoe', teacher: false, loopbackTeacher: false });
    expect(await who(cookies.teacher)).toEqual({ account: 'teacher', teacher: true, loopbackTeacher: false });
    // A made-up token is nobody.
    expect(await who('portlab_signin=made-up')).toMatchObject({ account: null });
  });

  it('refuses a wrong password, each failure answered after a longer wait', async () => {
    const first = await postSignIn(base, 'zoe', 'guess-1');
    expect(first.status).toBe(401);
    expect(first.headers.get('set-cookie')).toBeNull();
    const second = await postSignIn(base, 'zoe', 'guess-2');
    expect(second.status).toBe(401);
    const [a, b] = [
      (await first.json()) as { waitedMs: number },
      (await second.json()) as { waitedMs: number },
    ];
    expect(b.waitedMs).toBe(a.waitedMs * 2);
    expect((await postSignIn(base, 'nobody', 'x1234')).status).toBe(401);
    // A form posted from another site is not JSON: refused before any password is checked.
    const form = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user=zoe&password=${ZOE}`,
    });
    expect(form.status).toBe(415);
    expect((await postSignIn(base, 'zoe', ZOE)).status).toBe(200);
  });
});

describe('mail and files', () => {
  const get = async (url: string, cookie?: string) => {
    const res = await fetch(`${base}${url}`, { headers: cookie ? { cookie } : {} });
    return { status: res.status, body: (await res.json()) as { users?: string[]; messages?: unknown[] } };
  };

  it("shows a student their own, never another's", async () => {
    expect((await get('/api/mail', cookies.bob)).body).toEqual({ users: ['bob'] });
    expect((await get('/api/mail/zoe/INBOX', cookies.bob)).status).toBe(403);
    expect((await get('/api/files/zoe', cookies.bob)).status).toBe(403);
    expect((await get('/api/mail/zoe/INBOX', cookies.zoe)).body.messages).toHaveLength(1);
    expect((await get('/api/files/zoe', cookies.zoe)).status).toBe(200);
  });

  it('shows nothing to a browser not signed in, everything to the teacher', async () => {
    expect((await get('/api/mail')).status).toBe(403);
    expect((await get('/api/files/zoe')).status).toBe(403);
    expect((await get('/api/mail', cookies.teacher)).body.users).toEqual(['alice', 'bob', 'teacher', 'zoe']);
    expect((await get('/api/mail/zoe/INBOX', cookies.teacher)).body.messages).toHaveLength(1);
  });
});

describe('a lab on one PC (web.loopbackIsTeacher, the default)', () => {
  it("gives the lab machine's own browser everything, as before", async () => {
    await withLoopbackTeacherWeb(lab, async ({ app, port }) => {
      const saved = base;
      base = `http://127.0.0.1:${port}`;
      try {
        const { raw } = await eventsSeenBy(undefined);
        for (const secret of ALL_SECRETS) expect(raw).toContain(secret);
        expect(await (await fetch(`${base}/api/session`)).json()).toMatchObject({ teacher: true });
        // light-my-request: a request from a LAN address, made in memory (no packet leaves the machine).
        const lan = await app.inject({ url: '/api/session', remoteAddress: '192.0.2.10' });
        expect(lan.json()).toEqual({ account: null, teacher: false, loopbackTeacher: false });
      } finally {
        base = saved;
      }
    });
  });
});
