import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * Keywords (RFC 3501 §2.3.2, §7.2.6): before a FETCH shows a keyword, the client has been told of
 * it in a FLAGS response; a flag that is not one (\Foo, \Recent, a quoted string) is refused.
 */
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

async function folderWith(name: string, count: number, flags: string[] = []): Promise<void> {
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder(name);
  const folder = await mailbox.folder(name);
  for (let i = 0; i < count; i++) await folder.append(message(`${name} ${i}`), { flags });
}

/**
 * Checks that `keyword` is in a `* FLAGS` line and in a `* OK [PERMANENTFLAGS` line, both before
 * the first FETCH that shows it.
 */
function announcedBeforeUse(answer: string, keyword: string): void {
  const lines = answer.split('\r\n');
  const used = lines.findIndex((l) => / FETCH \(.*FLAGS \([^)]*/.test(l) && l.includes(keyword));
  expect(used, answer).toBeGreaterThan(-1);
  const flags = lines.findIndex((l) => l.startsWith('* FLAGS (') && l.includes(keyword));
  const permanent = lines.findIndex((l) => l.startsWith('* OK [PERMANENTFLAGS (') && l.includes(keyword));
  expect(flags, answer).toBeGreaterThan(-1);
  expect(flags, answer).toBeLessThan(used);
  expect(permanent, answer).toBeGreaterThan(flags);
  expect(permanent, answer).toBeLessThan(used);
}

describe('a keyword is announced in FLAGS before it is used (RFC 3501 §7.2.6)', () => {
  it('lists the keywords the mailbox has at SELECT', async () => {
    await folderWith('Tagged', 1, ['$Important']);
    const c = await RawClient.loggedIn(lab.port);
    const selected = await c.command('a1', 'SELECT Tagged');
    expect(selected).toMatch(/^\* FLAGS \([^)]*\$Important[^)]*\)\r$/m);
    expect(selected).toMatch(/^\* OK \[PERMANENTFLAGS \([^)]*\$Important [^)]*\\\*\)\]/m);
    c.close();
  });

  it('by STORE, to the session that stores and to another with the mailbox selected (§6.4.6)', async () => {
    await folderWith('Stored', 1);
    const a = await RawClient.loggedIn(lab.port);
    const b = await RawClient.loggedIn(lab.port);
    await a.command('a1', 'SELECT Stored');
    await b.command('b1', 'SELECT Stored');
    announcedBeforeUse(await a.command('a2', 'STORE 1 +FLAGS (Urgent)'), 'Urgent');
    announcedBeforeUse(await b.command('b2', 'NOOP'), 'Urgent');
    // Told once: not again.
    expect(await a.command('a3', 'FETCH 1 FLAGS')).not.toContain('* FLAGS');
    a.close();
    b.close();
  });

  it('by APPEND and COPY from other sessions (§6.3.11, §6.4.7)', async () => {
    await folderWith('Target', 0);
    await folderWith('Origin', 1, ['Copied']);
    const a = await RawClient.loggedIn(lab.port);
    const other = await RawClient.loggedIn(lab.port);
    await a.command('a1', 'SELECT Target');
    expect(await other.command('o1', 'APPEND Target (Appended) {12}\r\nSubject: x\r\n')).toMatch(/^o1 OK/m);
    await other.command('o2', 'SELECT Origin');
    expect(await other.command('o3', 'COPY 1 Target')).toMatch(/^o3 OK/m);
    expect(await a.command('a2', 'NOOP')).toContain('* 2 EXISTS');
    announcedBeforeUse(await a.command('a3', 'FETCH 1 FLAGS'), 'Appended');
    announcedBeforeUse(await a.command('a4', 'FETCH 2 FLAGS'), 'Copied');
    a.close();
    other.close();
  });
});

describe('what is not a flag is refused, and no keyword is made of it (RFC 3501 §9 flag)', () => {
  it('answers BAD to a quoted string, \\Foo and \\Recent, and changes nothing', async () => {
    await folderWith('Refused', 1);
    const c = await RawClient.loggedIn(lab.port);
    await c.command('a1', 'SELECT Refused');
    const refused = [
      'STORE 1 +FLAGS ("quoted")',
      'STORE 1 FLAGS (\\Seen "quoted")',
      'STORE 1 +FLAGS (\\Foo)',
      'STORE 1 +FLAGS (\\Recent)',
      'STORE 1 +FLAGS (\\*)',
      'APPEND Refused (\\Recent) {12}\r\nSubject: x\r\n',
      'APPEND Refused ("quoted") {12}\r\nSubject: x\r\n',
    ];
    for (const [i, command] of refused.entries())
      expect(await c.command(`b${i}`, command), command).toMatch(new RegExp(`^b${i} BAD`, 'm'));
    const after = await c.command('a2', 'FETCH 1:* FLAGS');
    // The session took the message's \Recent at SELECT (recent.test.ts).
    expect(after).toContain('* 1 FETCH (FLAGS (\\Recent))');
    expect(after).not.toContain('* 2 FETCH');
    expect(after).not.toMatch(/quoted|Foo/i);
    expect(await c.command('a3', 'STORE 1 FLAGS (\\seen $label1)')).toContain(
      'FLAGS (\\Seen $label1 \\Recent)',
    );
    c.close();
  });

  it('takes NIL as the keyword it is in a flag list (an atom, RFC 3501 §9; as Dovecot does)', async () => {
    await folderWith('Nil', 1);
    const c = await RawClient.loggedIn(lab.port);
    await c.command('a1', 'SELECT Nil');
    announcedBeforeUse(await c.command('a2', 'STORE 1 +FLAGS NIL'), 'NIL');
    expect(await c.command('a3', 'FETCH 1 FLAGS')).toContain('* 1 FETCH (FLAGS (NIL \\Recent))');
    c.close();
  });
});
