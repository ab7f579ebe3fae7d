// COPY and MOVE against the mailbox's quota (config mail.quotaBytes): a COPY whose copies would pass
// it is answered NO [OVERQUOTA] (RFC 9051 §7.1) and copies nothing (RFC 9051 §6.4.7); COPYs from
// several sessions at once pass it no more than one after the other; a MOVE (RFC 6851) only changes
// folder, so it works at the quota. Over real sockets, with imapflow, python3's imaplib and a raw
// client, the store wired as apps/mail wires it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

const run = promisify(execFile);
/** Debian's interpreter (python3 is in every CI image; said here if it is not). */
const PYTHON = '/usr/bin/python3';
if (!existsSync(PYTHON))
  console.warn(`${PYTHON} missing: the imaplib COPY/MOVE quota test is skipped (apt-get install python3)`);

const QUOTA = 20_000;
/** A message of about 3,860 bytes: five fit in the quota (19.3 kB), six would pass it (23.2 kB). */
const MESSAGE_BODY = 'x'.repeat(3600);
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab({ mail: { quotaBytes: QUOTA } } as never);
});
afterAll(() => lab.stop());

const usedBy = async (user: string) => (await lab.store.mailbox(user)).usage.bytes();
const countIn = async (user: string, folder: string) =>
  (await (await (await lab.store.mailbox(user)).folder(folder)).messages()).length;

async function messagesIn(client: ImapFlow, path: string): Promise<number> {
  const status = await client.status(path, { messages: true });
  return status ? (status.messages ?? -1) : -1;
}

describe('COPY and the quota, with imapflow', () => {
  it('refuses a COPY or UID COPY that would pass the quota with NO [OVERQUOTA], copying nothing; one that fits is made', async () => {
    for (const n of [1, 2, 3]) await lab.store.deliver('alice', message(`big ${n}`, MESSAGE_BODY));
    const before = await usedBy('alice');
    // The sizes of the messages by UID (their Message-IDs differ in length).
    const sizes = (await (await (await lab.store.mailbox('alice')).folder('INBOX')).messages()).map(
      (m) => m.size,
    );
    // imapflow answers false to a refused COPY and tells its logger why.
    const refusals: { serverResponseCode?: string; response?: string }[] = [];
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: lab.port,
      secure: false,
      doSTARTTLS: false,
      auth: { user: 'alice', pass: 'wonderland' },
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (entry: { err?: { serverResponseCode?: string; response?: string } }) => {
          if (entry.err) refusals.push(entry.err);
        },
        error: () => undefined,
      },
    });
    await client.connect();
    try {
      expect((await client.mailboxOpen('INBOX')).exists).toBe(3);
      // 3 held, 3 more would make 6 (about 23 kB of 20).
      expect(await client.messageCopy('1:3', 'Drafts')).toBe(false);
      expect(refusals.at(-1)).toMatchObject({ serverResponseCode: 'OVERQUOTA' });
      expect(refusals.at(-1)?.response).toMatch(
        /the mailbox of alice is full: .* the copies need .*nothing was copied/,
      );
      expect(await messagesIn(client, 'Drafts')).toBe(0);
      expect(await messagesIn(client, 'INBOX')).toBe(3);
      expect(await usedBy('alice')).toBe(before);
      // One fits (4), then one more by UID (5); a sixth would pass the quota, by UID as by number.
      expect(await client.messageCopy('1', 'Drafts')).toMatchObject({ destination: 'Drafts' });
      const uids = (await client.search({ all: true }, { uid: true })) as number[];
      expect(await client.messageCopy(`${uids[1]}`, 'Drafts', { uid: true })).toMatchObject({
        destination: 'Drafts',
      });
      expect(await client.messageCopy(`${uids[2]}`, 'INBOX', { uid: true })).toBe(false);
      expect(refusals.at(-1)).toMatchObject({ serverResponseCode: 'OVERQUOTA' });
      expect(await messagesIn(client, 'Drafts')).toBe(2);
      expect((await client.mailboxOpen('INBOX')).exists).toBe(3);
      expect(await usedBy('alice')).toBe(before + sizes[0]! + sizes[1]!);
    } finally {
      await client.logout();
    }
  });
});

describe('MOVE and the quota, with python3 imaplib', () => {
  it.skipIf(!existsSync(PYTHON))(
    'MOVE and UID MOVE work at the quota (the bytes change folder); moved to Trash and expunged, they make room for a COPY',
    async () => {
      // alice holds 5 messages (test above); one more APPEND fills her mailbox to exactly the quota.
      const drafts = await (await lab.store.mailbox('alice')).folder('Drafts');
      const room = QUOTA - (await usedBy('alice'));
      const head = message('filler', '');
      expect(room).toBeGreaterThan(head.length);
      await drafts.append(Buffer.concat([head, Buffer.alloc(room - head.length, 'y')]));
      expect(await usedBy('alice')).toBe(QUOTA);
      expect(await lab.store.full('alice')).toBe(true);
      const script = `
import imaplib
m = imaplib.IMAP4('127.0.0.1', ${lab.port})
m.login('alice', 'wonderland')
def say(what, typ, data):
    print(what, typ, (data[0] or b'').decode() if data else '')
typ, data = m.select('INBOX')
say('SELECT', typ, data)
typ, data = m.copy('1', 'Trash')
say('COPY', typ, data)
typ, data = m.uid('SEARCH', None, 'ALL')
uids = data[0].decode().split()
typ, data = m.uid('COPY', uids[0], 'Trash')
say('UIDCOPY', typ, data)
say('STATUS', *m.status('Trash', '(MESSAGES)'))
typ, data = m._simple_command('MOVE', '1', 'Junk')
say('MOVE', typ, data)
typ, data = m.uid('MOVE', uids[1], 'Trash')
say('UIDMOVE', typ, data)
say('STATUS', *m.status('INBOX', '(MESSAGES)'))
say('STATUS', *m.status('Junk', '(MESSAGES)'))
say('STATUS', *m.status('Trash', '(MESSAGES)'))
m.select('Junk')
say('MOVE', *m._simple_command('MOVE', '1:*', 'Trash'))
m.select('Trash')
m.store('1:*', '+FLAGS.SILENT', '(\\\\Deleted)')
say('EXPUNGE', *m.expunge())
m.select('INBOX')
say('COPY', *m.copy('1', 'Drafts'))
m.logout()
`;
      const { stdout } = await run(PYTHON, ['-c', script]);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^SELECT OK 3$/);
      expect(lines[1]).toMatch(/^COPY NO \[OVERQUOTA\] the mailbox of alice is full: .*nothing was copied/);
      expect(lines[2]).toMatch(/^UIDCOPY NO \[OVERQUOTA\] /);
      expect(lines[3]).toMatch(/^STATUS OK Trash \(MESSAGES 0\)$/);
      // At the quota, MOVE and UID MOVE (RFC 6851) work: nothing more is stored.
      expect(lines[4]).toMatch(/^MOVE OK /);
      expect(lines[5]).toMatch(/^UIDMOVE OK /);
      expect(lines[6]).toMatch(/^STATUS OK INBOX \(MESSAGES 1\)$/);
      expect(lines[7]).toMatch(/^STATUS OK Junk \(MESSAGES 1\)$/);
      expect(lines[8]).toMatch(/^STATUS OK Trash \(MESSAGES 1\)$/);
      // Junk's message to Trash as well, then Trash emptied (two messages' room): the COPY fits again.
      expect(lines[9]).toMatch(/^MOVE OK /);
      expect(lines[10]).toMatch(/^EXPUNGE OK /);
      expect(lines[11]).toMatch(/^COPY OK \[COPYUID /);
      expect(await usedBy('alice')).toBeLessThanOrEqual(QUOTA);
    },
  );
});

describe('COPYs from several sessions at once', () => {
  it('pass the quota no more than one after the other: one is made, the others get NO [OVERQUOTA]', async () => {
    for (const n of [1, 2]) await lab.store.deliver('bob', message(`big ${n}`, MESSAGE_BODY));
    const sessions = await Promise.all([1, 2, 3].map(() => RawClient.loggedIn(lab.port)));
    for (const [i, c] of sessions.entries())
      expect(await c.command(`s${i}`, 'SELECT INBOX')).toMatch(/\* 2 EXISTS/);
    // About 7.7 kB used of 20: a copy of both fits once (15.4 kB), not twice (23.2 kB).
    const answers = await Promise.all(
      ['Drafts', 'Junk', 'Trash'].map((to, i) => sessions[i]!.command(`c${i}`, `COPY 1:2 ${to}`)),
    );
    const tagged = answers.map((a) => /^c\d (OK|NO)( \[\w+)?/m.exec(a)?.slice(1).join(''));
    expect(tagged.filter((t) => t === 'OK [COPYUID')).toHaveLength(1);
    expect(tagged.filter((t) => t === 'NO [OVERQUOTA')).toHaveLength(2);
    const copied = (await Promise.all(['Drafts', 'Junk', 'Trash'].map((f) => countIn('bob', f)))).reduce(
      (a, b) => a + b,
    );
    expect(copied).toBe(2);
    expect(await usedBy('bob')).toBeLessThanOrEqual(QUOTA);
    for (const c of sessions) c.close();
  });
});
