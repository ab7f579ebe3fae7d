import { readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * A FETCH that names a message expunged meanwhile (the client still counts it: the server may not
 * tell EXPUNGE during a FETCH, RFC 3501 §7.4.1): OK [EXPUNGEISSUED] (RFC 5530) with the others,
 * and OK [EXPUNGEISSUED] with nothing when none are left (as Dovecot: a NO to FETCH counts as a
 * failure for clients and conformance suites).
 */
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

async function folderWith(name: string, count: number) {
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder(name);
  const folder = await mailbox.folder(name);
  for (let i = 0; i < count; i++) await folder.append(message(`${name} ${i + 1}`), {});
  return folder;
}

const fetched = (answer: string) => [...answer.matchAll(/^\* (\d+) FETCH/gm)].map((m) => Number(m[1]));

describe('FETCH of messages expunged before the client was told', () => {
  it('is OK [EXPUNGEISSUED] when another process removed one of them, and when it names only that one', async () => {
    const folder = await folderWith('Removed', 3);
    const c = await RawClient.loggedIn(lab.port);
    await c.command('a1', 'SELECT Removed');
    // Another tool (mutt, a second portlab) deletes message 2's file: this server learns of it
    // only when it reads the file.
    const { id } = (await folder.messages())[1]!;
    const cur = path.join(folder.dir, 'cur');
    unlinkSync(path.join(cur, readdirSync(cur).find((f) => f.startsWith(id))!));

    const some = await c.command('a2', 'FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(fetched(some)).toEqual([1, 3]);
    expect(some).toMatch(/^a2 OK \[EXPUNGEISSUED\]/m);
    expect(await c.command('a3', 'FETCH 2 (BODY.PEEK[HEADER])')).toMatch(/^a3 OK \[EXPUNGEISSUED\]/m);
    expect(await c.command('a4', 'NOOP')).toContain('* 2 EXPUNGE');
    c.close();
  });

  it('is the same when another session expunged it and this one was not told yet', async () => {
    await folderWith('Shared', 3);
    const a = await RawClient.loggedIn(lab.port);
    const b = await RawClient.loggedIn(lab.port);
    await a.command('a1', 'SELECT Shared');
    await b.command('b1', 'SELECT Shared');
    await a.command('a2', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    expect(await a.command('a3', 'EXPUNGE')).toContain('* 2 EXPUNGE');

    const some = await b.command('b2', 'FETCH 1:3 (UID FLAGS)');
    expect(fetched(some)).toEqual([1, 3]);
    expect(some).toMatch(/^b2 OK \[EXPUNGEISSUED\]/m);
    expect(await b.command('b3', 'FETCH 2 (UID)')).toMatch(/^b3 OK \[EXPUNGEISSUED\]/m);
    expect(await b.command('b4', 'NOOP')).toContain('* 2 EXPUNGE');
    a.close();
    b.close();
  });
});
