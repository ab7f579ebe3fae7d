import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab, transcriptUntil } from './helpers.js';

let lab: ImapLab;

/** A message with a multipart holding a message/rfc822: every kind of section number. */
const NESTED = Buffer.from(
  [
    'From: alice@lab.test',
    'Subject: nested',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: text/plain',
    '',
    'part one',
    '--outer',
    'Content-Type: message/rfc822',
    '',
    'From: carol@lab.test',
    'Subject: inner',
    'Content-Type: multipart/alternative; boundary="inner"',
    '',
    '--inner',
    'Content-Type: text/plain',
    '',
    'inner plain',
    '--inner',
    'Content-Type: text/html',
    '',
    '<p>inner html</p>',
    '--inner--',
    '--outer--',
    '',
  ].join('\r\n'),
);

beforeAll(async () => {
  lab = await startImapLab({ mail: { maxMessageBytes: 4096 } });
  await lab.store.deliver('bob', message('plain one'));
  await lab.store.deliver('bob', NESTED);
});
afterAll(() => lab.stop());

describe('a session typed by hand (LF line ends, as nc sends them)', () => {
  it('logs in, selects, and fetches sections by part number, MIME headers and partials', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('a1', 'SELECT INBOX')).toMatch(/\* 2 EXISTS[\s\S]*a1 OK \[READ-WRITE\]/);
    const fetched = await c.command(
      'a2',
      'FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.HEADER.FIELDS (Subject)] BODY.PEEK[2.2] BODY.PEEK[2.1.MIME] BODY.PEEK[2.TEXT]<2.7>)',
    );
    expect(fetched).toContain('BODY[1] {8}\r\npart one');
    expect(fetched).toContain('BODY[2.HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: inner\r\n\r\n');
    expect(fetched).toContain('BODY[2.2] {17}\r\n<p>inner html</p>');
    expect(fetched).toContain('BODY[2.1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n');
    expect(await c.command('a2b', 'FETCH 2 BODY.PEEK[3]')).toContain('BODY[3] ""');
    expect(fetched).toContain('BODY[2.TEXT]<2> {7}\r\ninner\r\n');
    expect(await c.command('a3', 'FETCH 2 (FLAGS)')).not.toContain('\\Seen');
    expect(await c.command('a4', 'FETCH 2 BODY[1]')).toMatch(/FLAGS \(\\Seen/);
    const structure = await c.command('a5', 'FETCH 2 BODYSTRUCTURE');
    expect(structure).toContain('"MESSAGE" "RFC822"');
    expect(structure).toContain('"ALTERNATIVE"');
    expect(await c.command('a6', 'LOGOUT')).toContain('* BYE');
  });

  it('tells the flags a FETCH or STORE changed once, in its own answer, not again after (RFC 3501 §6.4.5)', async () => {
    // A message of its own, unread, in a folder of its own: the other tests count INBOX's.
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('s1', 'CREATE Once')).toMatch(/^s1 OK/m);
    await lab.store.deliver('bob', message('unread'), 'Once');
    await c.command('s2', 'SELECT Once');
    const fetched = await c.command('s3', 'FETCH 1 BODY[]');
    expect(fetched.match(/^\* 1 FETCH/gm)).toHaveLength(1);
    expect(fetched).toMatch(/FLAGS \(\\Seen/);
    expect(await c.command('s4', 'NOOP')).not.toMatch(/\* 1 FETCH/);
    const stored = await c.command('s5', 'STORE 1 +FLAGS (\\Flagged)');
    expect(stored.match(/^\* 1 FETCH/gm)).toHaveLength(1);
    expect(await c.command('s6', 'NOOP')).not.toMatch(/\* 1 FETCH/);
    await c.command('s7', 'UNSELECT');
    expect(await c.command('s8', 'DELETE Once')).toMatch(/^s8 OK/m);
    await c.command('s9', 'LOGOUT');
  });

  it('runs pipelined commands in order', async () => {
    const c = await RawClient.loggedIn(lab.port);
    c.write('p1 SELECT INBOX\np2 SEARCH SUBJECT nested\np3 NOOP\n');
    const all = await c.until(/^p3 OK.*\r\n/m);
    expect(all.indexOf('p1 OK')).toBeLessThan(all.indexOf('* SEARCH 2'));
    expect(all.indexOf('p2 OK')).toBeLessThan(all.indexOf('p3 OK'));
    c.close();
  });

  it('answers every command of a client that sends them all and closes its side (printf | nc -N)', async () => {
    const socket = connect(lab.port, '127.0.0.1', () =>
      socket.end('h1 LOGIN bob builder\nh2 SELECT INBOX\nh3 FETCH 1 (FLAGS)\nh4 LOGOUT\n'),
    );
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
    });
    await new Promise((resolve) => socket.once('close', resolve));
    for (const tag of ['h1', 'h2', 'h3', 'h4']) expect(text).toMatch(new RegExp(`^${tag} OK`, 'm'));
    expect(text).toMatch(/^\* 1 FETCH \(FLAGS/m);
  });

  it('authenticates with AUTHENTICATE PLAIN after a + prompt', async () => {
    const c = await RawClient.connect(lab.port);
    c.write('a1 AUTHENTICATE PLAIN\n');
    await c.until(/^\+ ?\r\n/m);
    c.write(`${Buffer.from('\0bob\0builder').toString('base64')}\n`);
    expect(await c.until(/^a1 .*\r\n/m)).toMatch(/a1 OK/);
    c.close();
  });

  it('speaks CONDSTORE (MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE) and ESEARCH', async () => {
    const c = await RawClient.loggedIn(lab.port);
    const selected = await c.command('a1', 'SELECT INBOX (CONDSTORE)');
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(selected)![1]);
    const stored = await c.command('a2', `STORE 1 (UNCHANGEDSINCE ${highest}) +FLAGS (\\Answered)`);
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(stored)![1]);
    expect(modseq).toBeGreaterThan(highest);
    expect(await c.command('a3', `STORE 1 (UNCHANGEDSINCE ${highest}) +FLAGS (\\Flagged)`)).toMatch(
      /a3 OK \[MODIFIED 1\]/,
    );
    const changed = await c.command('a4', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
    expect(changed).toMatch(/\* 1 FETCH \(FLAGS \(.*\\Answered.*\) MODSEQ/);
    expect(changed).not.toContain('* 2 FETCH');
    expect(await c.command('a5', 'UID SEARCH RETURN (MIN MAX COUNT) ALL')).toMatch(
      /\* ESEARCH \(TAG "a5"\) UID MIN 1 MAX 2 COUNT 2/,
    );
    expect(await c.command('a6', 'SEARCH CHARSET KOI8-R TEXT x')).toMatch(/a6 NO \[BADCHARSET/);
    c.close();
  });
});

describe('bad input, each refused with the session going on', () => {
  it('refuses a literal larger than the limit before reading it (synchronizing: no + go-ahead)', async () => {
    const c = await RawClient.loggedIn(lab.port);
    c.write('a1 APPEND INBOX {999999999}\n');
    const answer = await c.until(/^a1 .*\r\n/m);
    expect(answer).toMatch(/^a1 NO \[TOOBIG\]/m);
    expect(answer).not.toContain('+ ');
    expect(await c.command('a2', 'NOOP')).toMatch(/a2 OK/);
    c.close();
  });

  it('reads and throws away a non-synchronizing literal over the limit (LITERAL+)', async () => {
    const c = await RawClient.loggedIn(lab.port);
    c.write(`a1 APPEND INBOX {5000+}\n${'x'.repeat(5000)}\n`);
    expect(await c.until(/^a1 .*\r\n/m)).toMatch(/^a1 BAD \[TOOBIG\]/m);
    expect(await c.command('a2', 'NOOP')).toMatch(/a2 OK/);
    c.close();
  });

  it('refuses an over-long line', async () => {
    const c = await RawClient.loggedIn(lab.port);
    c.write(`a1 NOOP ${'x'.repeat(100_000)}\n`);
    expect(await c.until(/^\S+ BAD .*\r\n/m)).toMatch(/BAD line too long/);
    expect(await c.command('a2', 'NOOP')).toMatch(/a2 OK/);
    c.close();
  });

  it('answers commands in the wrong state with NO or BAD', async () => {
    const c = await RawClient.connect(lab.port);
    expect(await c.command('a1', 'SELECT INBOX')).toMatch(/a1 NO .*login/);
    expect(await c.command('a2', 'FETCH 1 FLAGS')).toMatch(/a2 NO/);
    expect(await c.command('a3', 'LOGIN bob builder')).toMatch(/a3 OK/);
    expect(await c.command('a4', 'FETCH 1 FLAGS')).toMatch(/a4 NO .*SELECT/);
    expect(await c.command('a5', 'LOGIN bob builder')).toMatch(/a5 BAD/);
    expect(await c.command('a6', 'BOGUS')).toMatch(/a6 BAD unknown command/);
    expect(await c.command('a7', 'FETCH')).toMatch(/a7 NO/);
    expect(await c.command('a8', 'SELECT INBOX')).toMatch(/a8 OK/);
    expect(await c.command('a9', 'FETCH x:y FLAGS')).toMatch(/a9 BAD .*sequence set/);
    expect(await c.command('b1', 'FETCH 1 (BODY[1.HEADR])')).toMatch(/b1 BAD/);
    expect(await c.command('b2', 'SEARCH FROOM x')).toMatch(/b2 BAD unknown search key/);
    expect(await c.command('b3', 'STORE 1 +FLAGS (\\Bogus)')).toMatch(/b3 BAD .*not a flag/);
    expect(await c.command('b4', 'NOOP')).toMatch(/b4 OK/);
    c.close();
  });

  it("refuses mailbox names with '..', '/' or control characters: nothing leaves the Maildir", async () => {
    const c = await RawClient.loggedIn(lab.port);
    for (const [tag, name] of [
      ['a1', '"../../etc"'],
      ['a2', '"a/b"'],
      ['a3', '"Work..Deep"'],
      ['a4', '"bad\x01name"'],
      ['a5', '"..Trash"'],
    ] as const) {
      expect(await c.command(tag, `CREATE ${name}`)).toMatch(new RegExp(`${tag} NO`));
    }
    expect(await c.command('b1', 'SELECT "../bob"')).toMatch(/b1 NO/);
    expect(await c.command('b2', 'RENAME Sent "../../x"')).toMatch(/b2 NO/);
    expect(await c.command('b3', 'APPEND "/tmp" {3+}\nabc')).toMatch(/b3 NO/);
    expect(readdirSync(path.join(lab.lab.dataDir, 'mail'))).toEqual(['bob']);
    expect(readdirSync(path.join(lab.lab.dataDir, 'mail', 'bob')).filter((f) => f.startsWith('.'))).toEqual([
      '.Drafts',
      '.Junk',
      '.Sent',
      '.Trash',
    ]);
    c.close();
  });

  it('slows down wrong passwords (the LoginThrottle counts them)', async () => {
    const c = await RawClient.connect(lab.port);
    expect(await c.command('a1', 'LOGIN bob wrong')).toMatch(/a1 NO \[AUTHENTICATIONFAILED\]/);
    expect(await c.command('a2', 'LOGIN bob wrong-again')).toMatch(/a2 NO \[AUTHENTICATIONFAILED\]/);
    expect(lab.throttle.failuresOf(lab.throttle.keyOf('127.0.0.1', 'bob'))).toBe(2);
    expect(await c.command('a3', 'LOGIN bob builder')).toMatch(/a3 OK/);
    expect(lab.throttle.failuresOf(lab.throttle.keyOf('127.0.0.1', 'bob'))).toBe(0);
    c.close();
  });
});

describe('the transcript', () => {
  it('records each line, flags LOGIN as credentials and summarizes literals', async () => {
    const c = await RawClient.loggedIn(lab.port);
    const body = message('for the transcript').toString('latin1');
    c.write(`t1 APPEND INBOX {${body.length}}\n`);
    await c.until(/^\+ .*\r\n/m);
    c.write(`${body}\n`);
    expect(await c.until(/^t1 .*\r\n/m)).toMatch(/t1 OK \[APPENDUID \d+ \d+\]/);
    await c.command('t2', 'SELECT INBOX');
    await c.command('t3', 'FETCH 1 BODY.PEEK[]');
    c.close();
    const events = await transcriptUntil(lab, 't3 OK');
    expect(events.find((e) => e.line === 'l1 LOGIN bob builder')?.flags).toEqual(['credentials']);
    expect(
      events.find((e) => e.dir === 'C' && e.line === `{${body.length} bytes of message data}`)?.flags,
    ).toEqual(['summary']);
    expect(events.some((e) => e.dir === 'S' && /^\{\d+ bytes of message data\}$/.test(e.line ?? ''))).toBe(
      true,
    );
    expect(events.some((e) => e.line?.includes('Hello from the lab'))).toBe(false);
  });
});

describe('TLS', () => {
  it('speaks IMAPS with the lab certificate', async () => {
    const socket = tlsConnect({ port: lab.tlsPort, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const c = await RawClient.over(socket);
    expect(await c.command('a1', 'CAPABILITY')).not.toContain('STARTTLS');
    expect(await c.command('a2', 'LOGIN bob builder')).toMatch(/a2 OK/);
    c.close();
  });
});

describe('a lab that requires TLS before passwords', () => {
  let strict: ImapLab;
  beforeAll(async () => {
    strict = await startImapLab({ mail: { requireTlsForAuth: true } });
  });
  afterAll(() => strict.stop());

  it('says LOGINDISABLED, refuses LOGIN in clear text, and accepts it after STARTTLS', async () => {
    const c = await RawClient.connect(strict.port);
    const caps = await c.command('a1', 'CAPABILITY');
    expect(caps).toContain('LOGINDISABLED');
    expect(caps).not.toContain('AUTH=PLAIN');
    expect(await c.command('a2', 'LOGIN bob builder')).toMatch(/a2 NO \[PRIVACYREQUIRED\]/);
    expect(await c.command('a3', 'STARTTLS')).toMatch(/a3 OK/);
    const socket = tlsConnect({ socket: c.socket, rejectUnauthorized: false });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const secure = await RawClient.over(socket, false);
    const after = await secure.command('a4', 'CAPABILITY');
    expect(after).toContain('AUTH=PLAIN');
    expect(after).not.toContain('STARTTLS');
    expect(await secure.command('a5', 'LOGIN bob builder')).toMatch(/a5 OK/);
    secure.close();
    const file = path.join(strict.lab.dataDir, 'log', 'imap.ndjson');
    const events = await waitFor(
      () => {
        const all = readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { line?: string; flags?: string[] });
        return all.some((e) => e.line?.startsWith('a5')) && all;
      },
      { what: 'the transcript' },
    );
    expect(events.find((e) => e.line?.startsWith('a3 OK'))?.flags).toEqual(['tls']);
  });
});
