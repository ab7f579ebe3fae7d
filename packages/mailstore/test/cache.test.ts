import { appendFileSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailStore, UIDLIST_FILE } from '../src/index.js';
import { makeTempDir, removeDir } from './temp-dir.js';
import { runWorkers } from './workers.js';

let root: string;
let store: MailStore;
let inboxDir: string;

beforeEach(() => {
  root = makeTempDir('cache');
  store = new MailStore(root);
  inboxDir = path.join(root, 'bob');
});
afterEach(() => removeDir(root));

const message = (subject: string) => Buffer.from(`Subject: ${subject}\r\n\r\nHello ${subject}\r\n`);

/** Sets the mtime of new/ and cur/ to `seconds` (Unix time): the same value every time it is given. */
function setDirTimes(seconds: number): void {
  for (const sub of ['new', 'cur']) utimesSync(path.join(inboxDir, sub), seconds, seconds);
}

/** An hour ago: a stamp this old is trusted, so an unchanged folder is not read again. */
const anHourAgo = () => Math.floor(Date.now() / 1000) - 3600;

async function inboxOf(mailStore: MailStore) {
  return (await mailStore.mailbox('bob')).folder('INBOX');
}

describe('the folder index: a folder is read again only when the disk changed', () => {
  it('hands out the same snapshot while nothing changed', async () => {
    await store.deliver('bob', message('one'));
    const inbox = await inboxOf(store);
    setDirTimes(anHourAgo());
    const first = await inbox.snapshot();
    expect(await inbox.snapshot()).toBe(first);
    expect(first.status).toMatchObject({ messages: 1, unseen: 1, recent: 1, uidNext: 2 });
  });

  it("sees another process's delivery and flag change at the next look", async () => {
    await store.deliver('bob', message('one'));
    const inbox = await inboxOf(store);
    setDirTimes(anHourAgo());
    await inbox.snapshot();

    // Another portlab process: its own index, its own in-process queue; only the disk is shared.
    const other = new MailStore(root);
    await other.deliver('bob', message('from elsewhere'));
    expect((await inbox.messages()).map((m) => m.uid)).toEqual([1, 2]);

    setDirTimes(anHourAgo());
    await inbox.snapshot();
    const [changed] = await (await inboxOf(other)).setFlags([1], 'add', ['\\Seen', 'Important']);
    const [mine] = await inbox.messages();
    expect([...mine!.flags].sort()).toEqual(['Important', '\\Seen']);
    expect(mine!.modseq).toBe(changed!.modseq);
    expect((await inbox.status()).unseen).toBe(1);
  });

  it('sees a change made in the same clock tick as its last look (same mtime)', async () => {
    await store.deliver('bob', message('one'));
    const inbox = await inboxOf(store);
    // A look at a directory changed a moment ago: its mtime is too recent to be trusted...
    const recent = Date.now() / 1000 - 0.01;
    setDirTimes(recent);
    expect(await inbox.messages()).toHaveLength(1);
    // ...because another tool may deliver within the same tick, leaving the mtime as it was.
    writeFileSync(path.join(inboxDir, 'new', '1700000000.M1P1Q1.othertool,S=30'), message('racy'));
    setDirTimes(recent);
    expect(await inbox.messages()).toHaveLength(2);
  });

  it('sees its own changes at once, even when they leave the mtime as it was', async () => {
    await store.deliver('bob', message('one'));
    const inbox = await inboxOf(store);
    const old = anHourAgo();
    setDirTimes(old);
    await inbox.snapshot();
    await store.deliver('bob', message('mine'));
    setDirTimes(old);
    expect(await inbox.messages()).toHaveLength(2);
    await inbox.setFlags([2], 'add', ['\\Flagged']);
    setDirTimes(old);
    expect((await inbox.messages())[1]!.flags).toEqual(['\\Flagged']);
    await inbox.delete([1]);
    setDirTimes(old);
    expect((await inbox.messages()).map((m) => m.uid)).toEqual([2]);
  });

  it('gives a new MODSEQ to a flag change made by another tool (mutt renaming the file)', async () => {
    const { id } = await store.deliver('bob', message('read in mutt'));
    const inbox = await inboxOf(store);
    const [before] = await inbox.messages();
    renameSync(path.join(inboxDir, 'new', id), path.join(inboxDir, 'cur', `${id}:2,S`));
    const [after] = await inbox.messages();
    expect(after).toMatchObject({ uid: 1, flags: ['\\Seen'] });
    expect(after!.modseq).toBeGreaterThan(before!.modseq);
  });

  it('finds a message another tool renamed since the last look when reading it', async () => {
    const { id } = await store.deliver('bob', message('moved'));
    const inbox = await inboxOf(store);
    await inbox.messages();
    renameSync(path.join(inboxDir, 'new', id), path.join(inboxDir, 'cur', `${id}:2,S`));
    expect(await inbox.read(1)).toEqual(message('moved'));
    // And a STORE on a stale file name reads the directories and tries again.
    renameSync(path.join(inboxDir, 'cur', `${id}:2,S`), path.join(inboxDir, 'cur', `${id}:2,RS`));
    const [changed] = await inbox.setFlags([1], 'add', ['\\Flagged']);
    expect([...changed!.flags].sort()).toEqual(['\\Answered', '\\Flagged', '\\Seen']);
  });
});

describe('the uidlist as a log', () => {
  it('appends a STORE as one line, reads the log back after a restart, and survives a torn last line', async () => {
    for (const s of ['a', 'b', 'c']) await store.deliver('bob', message(s));
    const inbox = await inboxOf(store);
    await inbox.messages();
    const file = path.join(inboxDir, UIDLIST_FILE);
    const before = readFileSync(file, 'utf8');
    const [changed] = await inbox.setFlags([2], 'add', ['Important']);
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length)).toBe(
      `2 ${changed!.modseq} ${Math.floor(changed!.internalDate.getTime() / 1000)} ${changed!.id} Important\n`,
    );
    const state = await inbox.messages();
    expect(await (await inboxOf(new MailStore(root))).messages()).toEqual(state);

    // A crash in the middle of an append leaves a line without its newline: it is ignored...
    appendFileSync(file, '3 99 1 half-writ');
    const restarted = await inboxOf(new MailStore(root));
    expect(await restarted.messages()).toEqual(state);
    // ...and the next change rewrites the file whole, without it.
    await restarted.setFlags([3], 'add', ['\\Seen']);
    const rewritten = readFileSync(file, 'utf8');
    expect(rewritten).not.toContain('half-writ');
    expect(rewritten.trim().split('\n')).toHaveLength(5 + 3);
  });

  it('keeps UIDNEXT and HIGHESTMODSEQ after the last message is expunged', async () => {
    for (const s of ['a', 'b']) await store.deliver('bob', message(s));
    const inbox = await inboxOf(store);
    await inbox.messages();
    await inbox.setFlags([2], 'add', ['\\Deleted']);
    expect(await inbox.expunge()).toEqual([2]);
    const status = await inbox.status();
    expect(await (await inboxOf(new MailStore(root))).status()).toEqual(status);
    expect(status.uidNext).toBe(3);
  });

  it('rewrites a log much longer than the list at the next change', async () => {
    await store.deliver('bob', message('a'));
    const inbox = await inboxOf(store);
    const [m] = await inbox.messages();
    const file = path.join(inboxDir, UIDLIST_FILE);
    // As if after 1,500 STOREs: each appended line names the same message.
    const line = (modseq: number) => `1 ${modseq} ${Math.floor(m!.internalDate.getTime() / 1000)} ${m!.id}\n`;
    appendFileSync(file, Array.from({ length: 1500 }, (_, i) => line(m!.modseq + i + 1)).join(''));
    const restarted = await inboxOf(new MailStore(root));
    expect((await restarted.messages())[0]!.modseq).toBe(m!.modseq + 1500);
    await restarted.setFlags([1], 'add', ['\\Seen']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5 + 1);
    expect((await restarted.messages())[0]!.modseq).toBe(m!.modseq + 1501);
  });
});

describe('several processes with the index', () => {
  it('never give two messages the same UID while they deliver, flag and list at once', async () => {
    const seen = await runWorkers('./busy-worker.js', root, 3);
    const final = await (await inboxOf(store)).messages();
    expect(final).toHaveLength(3 * 20);
    expect(new Set(final.map((m) => m.uid)).size).toBe(60);
    const uidOf = new Map(final.map((m) => [m.id, m.uid]));
    for (const run of seen) for (const [id, uid] of Object.entries(run)) expect(uidOf.get(id)).toBe(uid);
    // The log read from scratch agrees with what this process built from it.
    expect(await (await inboxOf(new MailStore(root))).messages()).toEqual(final);
    expect(statSync(path.join(inboxDir, `${UIDLIST_FILE}.lock`), { throwIfNoEntry: false })).toBeUndefined();
  });
});

describe('typed errors', () => {
  it('says NOT_FOUND and EXISTS with a code as well as in words', async () => {
    const mailbox = await store.mailbox('bob');
    await expect(mailbox.folder('Nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(mailbox.createFolder('Sent')).rejects.toMatchObject({
      code: 'EXISTS',
      message: "folder 'Sent' already exists",
    });
    await expect(mailbox.renameFolder('Nope', 'Other')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(mailbox.createFolder('a/b')).rejects.toMatchObject({ code: 'INVALID_NAME' });
    const inbox = await mailbox.folder('INBOX');
    await expect(inbox.read(7)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('subscriptions', () => {
  it('keeps subscribed names in a file, one a line, seen by every process', async () => {
    const mailbox = await store.mailbox('bob');
    // A mailbox nobody subscribed anything in has its default folders subscribed (as Dovecot's
    // `auto = subscribe`), so that Thunderbird shows them all from the start.
    expect(await mailbox.subscriptions()).toEqual(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']);
    await Promise.all(['INBOX', 'Sent', 'Work'].map((name) => mailbox.setSubscribed(name, true)));
    await Promise.all(['Sent', 'Drafts', 'Trash', 'Junk'].map((name) => mailbox.setSubscribed(name, false)));
    await mailbox.setSubscribed('Work', true);
    expect(readFileSync(path.join(inboxDir, 'subscriptions'), 'utf8').split('\n').sort()).toEqual([
      '',
      'INBOX',
      'Work',
    ]);
    // Unsubscribed defaults stay so: the file, once written, is the whole list.
    expect((await (await new MailStore(root).mailbox('bob')).subscriptions()).sort()).toEqual([
      'INBOX',
      'Work',
    ]);
  });
});
