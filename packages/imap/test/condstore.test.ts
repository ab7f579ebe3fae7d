import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/** CONDSTORE (RFC 7162 §3.1) and its ESEARCH answers (RFC 4731 §3.2). */
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder('Sync');
  const folder = await mailbox.folder('Sync');
  for (let i = 1; i <= 4; i++) await folder.append(message(`sync ${i}`), {});
});
afterAll(() => lab.stop());

async function selected(select = 'SELECT Sync'): Promise<RawClient> {
  const client = await RawClient.loggedIn(lab.port);
  expect(await client.command('l2', select)).toMatch(/^l2 OK/m);
  return client;
}

const highestModseqOf = (answer: string) => /^\* OK \[HIGHESTMODSEQ (\d+)\]/m.exec(answer)?.[1];

describe('the first CONDSTORE enabling command with a mailbox selected (RFC 7162 §3.1, §3.1.2)', () => {
  it.each([
    'FETCH 1 (MODSEQ)',
    'FETCH 1 (FLAGS) (CHANGEDSINCE 1)',
    'SEARCH MODSEQ 1',
    'UID STORE 1 (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Flagged)',
    'ENABLE CONDSTORE',
    'STATUS INBOX (HIGHESTMODSEQ)',
  ])('%s is answered with * OK [HIGHESTMODSEQ n] before its tagged OK, once', async (enabling) => {
    const c = await selected();
    const first = await c.command('a1', enabling);
    const highest = highestModseqOf(first);
    expect(highest, first).toMatch(/^\d+$/);
    expect(first.indexOf('[HIGHESTMODSEQ')).toBeLessThan(first.indexOf('a1 OK'));
    expect(highestModseqOf(await c.command('a2', enabling))).toBeUndefined();
    // The value is the mailbox's, as a SELECT (CONDSTORE) now reports it.
    expect(highestModseqOf(await c.command('a3', 'SELECT Sync (CONDSTORE)'))).toBe(highest);
    c.close();
  });
});

describe('MODSEQ in FETCH responses once CONDSTORE is on (RFC 7162 §3.1, §3.1.4)', () => {
  it("gives UID and MODSEQ in a FETCH that set \\Seen, and in another session's flag change", async () => {
    const a = await selected('SELECT Sync (CONDSTORE)');
    const b = await selected('SELECT Sync');
    const read = await a.command('a1', 'FETCH 4 (BODY[TEXT])');
    expect(read).toMatch(
      /^\* 4 FETCH \(BODY\[TEXT\] \{\d+\}\r\n[\s\S]*FLAGS \(\\Seen[^)]*\) UID 4 MODSEQ \(\d+\)\)/m,
    );
    await b.command('b1', 'STORE 4 +FLAGS.SILENT (\\Answered)');
    expect(await a.command('a2', 'NOOP')).toMatch(
      /^\* 4 FETCH \(UID 4 FLAGS \(\\Answered \\Seen[^)]*\) MODSEQ \(\d+\)\)/m,
    );
    a.close();
    b.close();
  });
});

describe('ESEARCH with MODSEQ: the highest mod-sequence of the messages it reports (RFC 4731 §3.2)', () => {
  it('is that of MIN and/or MAX when only they are returned, of every match otherwise', async () => {
    await lab.store.mailbox('bob').then((m) => m.createFolder('Esearch'));
    const folder = await (await lab.store.mailbox('bob')).folder('Esearch');
    for (let i = 1; i <= 4; i++) await folder.append(message(`esearch ${i}`), {});
    const c = await selected('SELECT Esearch (CONDSTORE)');
    // \Seen set in the order 1, 3, 2, 4: message 2 changed after 3, so its MODSEQ is higher.
    const modseq: Record<number, string> = {};
    for (const n of [1, 3, 2, 4]) {
      const answer = await c.command(`s${n}`, `STORE ${n} +FLAGS (\\Seen)`);
      modseq[n] = new RegExp(`^\\* ${n} FETCH \\(.*MODSEQ \\((\\d+)\\)`, 'm').exec(answer)![1]!;
    }
    const esearch = async (tag: string, command: string) =>
      /^\* ESEARCH .*$/m.exec(await c.command(tag, command))?.[0].trimEnd();
    const since = '"/flags/\\\\seen" all 1';
    expect(await esearch('e1', `SEARCH RETURN (MIN) 1:3 MODSEQ ${since}`)).toBe(
      `* ESEARCH (TAG "e1") MIN 1 MODSEQ ${modseq[1]}`,
    );
    expect(await esearch('e2', `SEARCH RETURN (MAX) 1:3 MODSEQ ${since}`)).toBe(
      `* ESEARCH (TAG "e2") MAX 3 MODSEQ ${modseq[3]}`,
    );
    expect(await esearch('e3', `SEARCH RETURN () 1:3 MODSEQ ${since}`)).toBe(
      `* ESEARCH (TAG "e3") ALL 1:3 MODSEQ ${modseq[2]}`,
    );
    expect(await esearch('e4', `SEARCH RETURN (MIN MAX) 2:3 MODSEQ ${since}`)).toBe(
      `* ESEARCH (TAG "e4") MIN 2 MAX 3 MODSEQ ${modseq[2]}`,
    );
    expect(await esearch('e5', `SEARCH RETURN (COUNT) 1:3 MODSEQ 1`)).toBe(
      `* ESEARCH (TAG "e5") COUNT 3 MODSEQ ${modseq[2]}`,
    );
    expect(await esearch('e6', `SEARCH RETURN (ALL) 2:3 MODSEQ ${modseq[2]}`)).toBe(
      `* ESEARCH (TAG "e6") ALL 2 MODSEQ ${modseq[2]}`,
    );
    expect(await esearch('e7', `SEARCH RETURN (ALL) 1:3 MODSEQ ${Number(modseq[4]) + 1}`)).toBe(
      '* ESEARCH (TAG "e7")',
    );
    c.close();
  });
});
