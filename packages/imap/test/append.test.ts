// APPEND pipelined with LITERAL+ (RFC 7888), and MULTIAPPEND (RFC 3502): several messages in one
// command, all or none. Over real sockets, with a raw client and python3's imaplib.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

const run = promisify(execFile);
/** Debian's interpreter (python3 is in every CI image; said here if it is not). */
const PYTHON = '/usr/bin/python3';
if (!existsSync(PYTHON))
  console.warn(`${PYTHON} missing: the imaplib MULTIAPPEND test is skipped (apt-get install python3)`);
let lab: ImapLab;
/** Small enough that two 1,500-byte messages in one command go over it. */
const LIMIT = 2000;

beforeAll(async () => {
  lab = await startImapLab({ mail: { maxMessageBytes: LIMIT } } as never);
});
afterAll(() => lab.stop());

const literal = (body: Buffer | string) => `{${Buffer.byteLength(body)}+}\r\n${body}`;

async function subjectsOf(folder: string): Promise<string[]> {
  const messages = await (await (await lab.store.mailbox('bob')).folder(folder))!.messages();
  const texts = await Promise.all(
    messages.map(async (m) =>
      (await (await (await lab.store.mailbox('bob')).folder(folder))!.read(m.uid)).toString(),
    ),
  );
  return texts.map((t) => /Subject: (.*)\r\n/.exec(t)?.[1] ?? '?');
}

describe('pipelined APPEND (LITERAL+)', () => {
  it('answers 40 APPENDs sent in one write, in order, each with its own UID, every message stored', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('c1', 'CREATE Burst')).toMatch(/^c1 OK/m);
    const burst = Array.from(
      { length: 40 },
      (_, i) => `p${i} APPEND Burst ${literal(message(`burst ${i}`))}\r\n`,
    ).join('');
    c.write(`${burst}z1 NOOP\r\n`);
    const answers = await c.until(/^z1 OK[^\r\n]*\r\n/m);
    const tagged = [...answers.matchAll(/^(\w+) (OK|NO|BAD) (?:\[APPENDUID \d+ (\d+)\] )?/gm)];
    expect(tagged.map((m) => m[1])).toEqual([...Array.from({ length: 40 }, (_, i) => `p${i}`), 'z1']);
    const uids = tagged.slice(0, 40).map((m) => Number(m[3]));
    expect(new Set(uids).size).toBe(40);
    const subjects = await subjectsOf('Burst');
    expect(subjects.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`).sort());
    c.write('l LOGOUT\r\n');
  });

  it('gives pipelined APPENDs ascending UIDs in the order the commands came (RFC 3501 §5.5)', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('o1', 'CREATE Ordered')).toMatch(/^o1 OK/m);
    // The first messages are the largest, and a refused one sits among them: order still holds.
    const burst = Array.from({ length: 30 }, (_, i) =>
      i === 7
        ? `r${i} APPEND Nowhere ${literal(message('lost'))}\r\n`
        : `r${i} APPEND Ordered ${literal(message(`ordered ${i}`, 'y'.repeat((30 - i) * 50)))}\r\n`,
    ).join('');
    c.write(`${burst}z2 NOOP\r\n`);
    const answers = await c.until(/^z2 OK[^\r\n]*\r\n/m);
    const tagged = [...answers.matchAll(/^r(\d+) (OK|NO) (?:\[APPENDUID \d+ (\d+)\] )?/gm)];
    expect(tagged.map((m) => `${m[1]} ${m[2]}`)).toEqual(
      Array.from({ length: 30 }, (_, i) => `${i} ${i === 7 ? 'NO' : 'OK'}`),
    );
    const uids = tagged.filter((m) => m[2] === 'OK').map((m) => Number(m[3]));
    expect(uids).toEqual([...uids].sort((a, b) => a - b));
    expect(new Set(uids).size).toBe(29);
    // Each UID holds the message of its own command.
    const folder = (await (await lab.store.mailbox('bob')).folder('Ordered'))!;
    const oks = tagged.filter((m) => m[2] === 'OK');
    for (const m of oks)
      expect((await folder.read(Number(m[3]))).toString()).toContain(`ordered ${m[1]}\r\n`);
    c.write('l LOGOUT\r\n');
  });

  it('answers a refused APPEND (no such mailbox, an empty message) in its place among the others', async () => {
    const c = await RawClient.loggedIn(lab.port);
    c.write(
      `q1 APPEND INBOX ${literal(message('kept 1'))}\r\n` +
        `q2 APPEND Nowhere ${literal(message('lost'))}\r\n` +
        `q3 APPEND INBOX {0+}\r\n\r\n` +
        `q4 APPEND INBOX ${literal(message('kept 2'))}\r\n`,
    );
    const answers = await c.until(/^q4 \w+[^\r\n]*\r\n/m);
    expect([...answers.matchAll(/^(q\d) (\w+)/gm)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'q1 OK',
      'q2 NO',
      'q3 NO',
      'q4 OK',
    ]);
    expect(answers).toMatch(/^q2 NO \[TRYCREATE\]/m);
    c.write('l LOGOUT\r\n');
  });

  it('tells the session that has the mailbox selected of the new messages (EXISTS)', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('s1', 'CREATE Watched')).toMatch(/^s1 OK/m);
    expect(await c.command('s2', 'SELECT Watched')).toMatch(/\* 0 EXISTS/);
    c.write(
      Array.from({ length: 5 }, (_, i) => `w${i} APPEND Watched ${literal(message(`w${i}`))}\r\n`).join(''),
    );
    const answers = await c.until(/^w4 OK[^\r\n]*\r\n/m);
    expect(answers).toMatch(/^\* 5 EXISTS/m);
    c.write('l LOGOUT\r\n');
  });
});

describe('MULTIAPPEND (RFC 3502)', () => {
  it('is in CAPABILITY', async () => {
    const c = await RawClient.connect(lab.port);
    expect(await c.command('k1', 'CAPABILITY')).toMatch(/^\* CAPABILITY .*\bMULTIAPPEND\b/m);
  });

  it.skipIf(!existsSync(PYTHON))(
    "python3's imaplib sends three messages in one APPEND: all stored, flags and dates their own",
    async () => {
      const script = `
import imaplib
m = imaplib.IMAP4('127.0.0.1', ${lab.port})
m.login('bob', 'builder')
m.create('Multi')
tag = m._new_tag()
m.send(tag + b' APPEND Multi (\\\\Seen) {21+}\\r\\nSubject: one\\r\\n\\r\\nhi\\r\\n'
       + b' (\\\\Flagged) "01-Jan-2024 10:00:00 +0000" {21+}\\r\\nSubject: two\\r\\n\\r\\nhi\\r\\n'
       + b' {23+}\\r\\nSubject: three\\r\\n\\r\\nhi\\r\\n\\r\\n')
typ, data = m._command_complete('APPEND', tag)
print('APPEND', typ, data[0].decode())
uids = []
for part in data[0].decode().split()[2].rstrip(']').split(','):
    a, _, b = part.partition(':')
    uids += range(int(a), int(b or a) + 1)
m.select('Multi')
for uid in uids:
    typ, data = m.uid('FETCH', str(uid), '(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    print('FETCH', data[0][0].decode(), data[0][1].decode().strip())
m.logout()
`;
      const { stdout } = await run(PYTHON, ['-c', script]);
      expect(stdout).toMatch(/^APPEND OK/m);
      const fetched = stdout.split('\n').filter((l) => l.startsWith('FETCH'));
      expect(fetched).toHaveLength(3);
      expect(fetched[0]).toMatch(/\\Seen.*Subject: one/);
      expect(fetched[1]).toMatch(/\\Flagged.*" ?1-Jan-2024 10:00:00 \+0000.*Subject: two/);
      expect(fetched[2]).toMatch(/FLAGS \((\\Recent)?\).*Subject: three/);
    },
  );

  it('answers APPENDUID with the UIDs in the order the messages were given', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('u0', 'CREATE Order')).toMatch(/^u0 OK/m);
    const many = Array.from({ length: 6 }, (_, i) => literal(`Subject: m${i}\r\n\r\nx\r\n`)).join(' ');
    const answer = await c.command('u1', `APPEND Order ${many}`);
    const set = /^u1 OK \[APPENDUID \d+ ([\d:,]+)\]/m.exec(answer)?.[1] ?? '';
    const uids = set.split(',').flatMap((part) => {
      const [a, b = a] = part.split(':').map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, k) => a! + k);
    });
    expect(uids).toHaveLength(6);
    // One step in the store: consecutive UIDs, in the order given (one range, RFC 4315 §3).
    expect(uids).toEqual(Array.from({ length: 6 }, (_, k) => uids[0]! + k));
    expect(set).toMatch(/^\d+:\d+$/);
    const folder = (await (await lab.store.mailbox('bob')).folder('Order'))!;
    for (const [i, uid] of uids.entries())
      expect((await folder.read(uid)).toString()).toContain(`Subject: m${i}`);
    c.write('l LOGOUT\r\n');
  });

  it('stores none when one message is empty (all or none)', async () => {
    const c = await RawClient.loggedIn(lab.port);
    const before = (await subjectsOf('INBOX')).length;
    const answer = await c.command(
      'e1',
      `APPEND INBOX ${literal('Subject: a\r\n\r\nx\r\n')} {0+}\r\n ${literal('Subject: b\r\n\r\nx\r\n')}`,
    );
    expect(answer).toMatch(/^e1 NO .*message 2 is empty/m);
    expect(await subjectsOf('INBOX')).toHaveLength(before);
    c.write('l LOGOUT\r\n');
  });

  it('stores none when the messages together are over the size limit (TOOBIG), each under it', async () => {
    const c = await RawClient.loggedIn(lab.port);
    const before = (await subjectsOf('INBOX')).length;
    const big = `Subject: big\r\n\r\n${'x'.repeat(1480)}\r\n`;
    const answer = await c.command('b1', `APPEND INBOX ${literal(big)} ${literal(big)}`);
    expect(answer).toMatch(/^b1 BAD \[TOOBIG\]/m);
    expect(await subjectsOf('INBOX')).toHaveLength(before);
    // The session goes on.
    expect(await c.command('b2', 'NOOP')).toMatch(/^b2 OK/m);
    c.write('l LOGOUT\r\n');
  });

  it("refuses malformed input: a message missing after its flags, and another user's path", async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('m1', `APPEND INBOX ${literal('Subject: a\r\n\r\nx\r\n')} (\\Seen)`)).toMatch(
      /^m1 BAD/m,
    );
    expect(await c.command('m2', `APPEND ../alice/INBOX ${literal('Subject: a\r\n\r\nx\r\n')}`)).toMatch(
      /^m2 (NO|BAD)/m,
    );
    c.write('l LOGOUT\r\n');
  });
});
