import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * \Recent (RFC 3501 §2.3.2): a new message is recent in exactly one session, the first to see it
 * with the mailbox selected read-write, however the message arrived; EXAMINE leaves it recent.
 */
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

/** A folder of its own for each test, with `count` messages dropped into new/ by a delivery agent. */
async function folderWith(name: string, count: number): Promise<void> {
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder(name);
  const { dir } = await mailbox.folder(name);
  for (let i = 0; i < count; i++) {
    const bytes = message(`${name} ${i}`);
    writeFileSync(path.join(dir, 'new', `1732712345.M${i}P${process.pid}Q${i}.lab,S=${bytes.length}`), bytes);
  }
}

const recentOf = (answer: string) => /^\* (\d+) RECENT\r$/m.exec(answer)?.[1];
const searched = (answer: string) => /^\* SEARCH([\d ]*)\r$/m.exec(answer)?.[1]?.trim();

describe('\\Recent, given to one session', () => {
  it('is seen by EXAMINE without taking it, then taken by the first SELECT only (§6.3.1, §6.3.2, §6.3.10)', async () => {
    await lab.store.deliver('bob', message('one'));
    await lab.store.deliver('bob', message('two'));
    const a = await RawClient.loggedIn(lab.port);
    const b = await RawClient.loggedIn(lab.port);
    expect(recentOf(await a.command('a1', 'EXAMINE INBOX'))).toBe('2');
    expect(await a.command('a2', 'FETCH 1 FLAGS')).toContain('FLAGS (\\Recent)');
    await a.command('a3', 'CLOSE');
    expect(await b.command('b1', 'STATUS INBOX (MESSAGES RECENT)')).toContain('(MESSAGES 2 RECENT 2)');

    expect(recentOf(await a.command('a4', 'SELECT INBOX'))).toBe('2');
    expect(recentOf(await b.command('b2', 'SELECT INBOX'))).toBe('0');
    expect(await a.command('a5', 'STATUS INBOX (RECENT)')).toContain('(RECENT 0)');
    expect(await b.command('b3', 'FETCH 1 FLAGS')).toContain('FLAGS ()');

    // RFC 3501 §6.4.4: RECENT, NEW (RECENT UNSEEN) and OLD (NOT RECENT).
    await a.command('a6', 'STORE 2 +FLAGS.SILENT (\\Seen)');
    expect(searched(await a.command('a7', 'SEARCH RECENT'))).toBe('1 2');
    expect(searched(await a.command('a8', 'SEARCH NEW'))).toBe('1');
    expect(searched(await a.command('a9', 'SEARCH OLD'))).toBe('');
    expect(searched(await b.command('b4', 'SEARCH RECENT'))).toBe('');
    expect(searched(await b.command('b5', 'SEARCH OLD'))).toBe('1 2');
    a.close();
    b.close();
  });

  it('comes with EXISTS to the first session that hears of new mail, APPEND and COPY included (§7.3.2, §6.3.11, §6.4.7)', async () => {
    await folderWith('Incoming', 0);
    await folderWith('Source', 1);
    const a = await RawClient.loggedIn(lab.port);
    const b = await RawClient.loggedIn(lab.port);
    const other = await RawClient.loggedIn(lab.port);
    await a.command('a1', 'SELECT Incoming');
    await b.command('b1', 'SELECT Incoming');

    // Another session APPENDs: the first of the two to look takes it, the second sees it old.
    expect(await other.command('o1', 'APPEND Incoming {12}\r\nSubject: x\r\n')).toMatch(/^o1 OK/m);
    const first = await a.command('a2', 'NOOP');
    expect(first).toContain('* 1 EXISTS');
    expect(recentOf(first)).toBe('1');
    const second = await b.command('b2', 'NOOP');
    expect(second).toContain('* 1 EXISTS');
    expect(recentOf(second)).toBe('0');
    expect(await other.command('o2', 'STATUS Incoming (RECENT)')).toContain('(RECENT 0)');

    // The session with the mailbox selected APPENDs to it: the message is recent for itself.
    const own = await a.command('a3', 'APPEND Incoming {12}\r\nSubject: y\r\n');
    expect(own).toContain('* 2 EXISTS');
    expect(recentOf(own)).toBe('2');
    expect(await a.command('a4', 'FETCH 2 FLAGS')).toContain('FLAGS (\\Recent)');

    // A COPY into the mailbox: recent for the first session to hear of it.
    await other.command('o3', 'SELECT Source');
    expect(await other.command('o4', 'COPY 1 Incoming')).toMatch(/^o4 OK/m);
    const copied = await b.command('b3', 'NOOP');
    expect(copied).toContain('* 3 EXISTS');
    expect(recentOf(copied)).toBe('1');
    expect(recentOf(await a.command('a5', 'NOOP'))).toBe('2');
    for (const c of [a, b, other]) c.close();
  });

  it('stays taken after a restart of the server: old mail does not become recent again', async () => {
    await folderWith('Kept', 2);
    const a = await RawClient.loggedIn(lab.port);
    expect(recentOf(await a.command('a1', 'SELECT Kept'))).toBe('2');
    a.close();
    lab = await lab.restart();
    const b = await RawClient.loggedIn(lab.port);
    expect(await b.command('b1', 'STATUS Kept (RECENT)')).toContain('(RECENT 0)');
    expect(recentOf(await b.command('b2', 'SELECT Kept'))).toBe('0');
    b.close();
  });
});
