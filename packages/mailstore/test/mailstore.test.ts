import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailStore, type MessageAdded, UIDLIST_FILE } from '../src/index.js';
import { withFileLock } from '../src/lock.js';
import { compareNames, uniqueName } from '../src/names.js';
import { makeTempDir, removeDir } from './temp-dir.js';
import { runWorkers } from './workers.js';

let root: string;
let store: MailStore;

beforeEach(() => {
  root = makeTempDir('store');
  store = new MailStore(root);
});
afterEach(() => removeDir(root));

const message = (subject: string) => Buffer.from(`Subject: ${subject}\r\n\r\nHello ${subject}\r\n`);

describe('delivery', () => {
  it('writes the exact bytes to new/ through tmp/, and reports it on the change feed', async () => {
    const added: MessageAdded[] = [];
    store.changes.on('added', (change) => added.push(change));
    const bytes = message('one');
    const { id, file } = await store.deliver('bob', bytes);
    expect(file).toBe(path.join(root, 'bob', 'new', id));
    expect(readFileSync(file)).toEqual(bytes);
    expect(readdirSync(path.join(root, 'bob', 'tmp'))).toEqual([]);
    expect(id).toMatch(new RegExp(`,S=${bytes.length}$`));
    expect(added).toEqual([{ user: 'bob', folder: 'INBOX', id }]);
  });

  it('delivers 200 messages at once (group commit of the directory fsync), each whole', async () => {
    const sent = Array.from({ length: 200 }, (_, i) => message(`m${i}`));
    const results = await Promise.all(sent.map((bytes) => store.deliver('alice', bytes)));
    expect(new Set(results.map((r) => r.id)).size).toBe(200);
    for (const [i, r] of results.entries()) expect(readFileSync(r.file)).toEqual(sent[i]);
  });

  it('makes the Maildir++ with the default folders and their special-use attributes', async () => {
    const mailbox = await store.mailbox('bob');
    expect(await mailbox.listFolders()).toEqual([
      { name: 'INBOX' },
      { name: 'Drafts', specialUse: '\\Drafts' },
      { name: 'Junk', specialUse: '\\Junk' },
      { name: 'Sent', specialUse: '\\Sent' },
      { name: 'Trash', specialUse: '\\Trash' },
    ]);
    for (const sub of ['cur', 'new', 'tmp', '.Sent/cur', '.Trash/new', '.Junk/tmp']) {
      expect(existsSync(path.join(root, 'bob', sub))).toBe(true);
    }
    expect(existsSync(path.join(root, 'bob', '.Sent', 'maildirfolder'))).toBe(true);
  });

  it('refuses a user name that could leave the mail directory', async () => {
    await expect(store.deliver('../etc', message('x'))).rejects.toThrow(/invalid user name/);
  });
});

describe('UIDs, flags and MODSEQ', () => {
  it('gives UIDs in delivery order and keeps them, and UIDVALIDITY, across a restart', async () => {
    for (const s of ['a', 'b', 'c']) await store.deliver('bob', message(s));
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const first = await inbox.messages();
    expect(first.map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(first.every((m) => m.flags.length === 0)).toBe(true);
    const status = await inbox.status();

    const restarted = await (await new MailStore(root).mailbox('bob')).folder('inbox');
    expect((await restarted.messages()).map((m) => [m.uid, m.id])).toEqual(first.map((m) => [m.uid, m.id]));
    expect(await restarted.status()).toEqual(status);
    expect(readFileSync(path.join(root, 'bob', UIDLIST_FILE), 'utf8')).toMatch(
      /^portlab-uidlist 1\nuidvalidity \d+\nuidnext 4\n/,
    );
  });

  it('never shows a file still in tmp/ (a delivery cut short by a crash)', async () => {
    await store.deliver('bob', message('whole'));
    writeFileSync(path.join(root, 'bob', 'tmp', '1.M1P999999Q1.host,S=100'), 'Subject: half');
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    expect((await inbox.messages()).map((m) => m.size)).toEqual([message('whole').length]);
  });

  it('keeps system flags in the file name (:2,FS) and keywords in the UID list, bumping MODSEQ', async () => {
    await store.deliver('bob', message('flag me'));
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const [before] = await inbox.messages();
    const changes: unknown[] = [];
    store.changes.on('flags', (c) => changes.push(c));
    const [after] = await inbox.setFlags([1], 'add', ['\\seen', '\\Flagged', 'Important']);
    expect(after!.flags.sort()).toEqual(['Important', '\\Flagged', '\\Seen']);
    expect(after!.modseq).toBeGreaterThan(before!.modseq);
    expect(readdirSync(path.join(root, 'bob', 'cur'))).toEqual([`${before!.id}:2,FS`]);
    expect(readdirSync(path.join(root, 'bob', 'new'))).toEqual([]);
    expect(changes).toEqual([
      { user: 'bob', folder: 'INBOX', uid: 1, flags: after!.flags, modseq: after!.modseq },
    ]);

    const again = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
    expect((await again.messages())[0]!.flags.sort()).toEqual(['Important', '\\Flagged', '\\Seen']);
    const [removed] = await again.setFlags([1], 'remove', ['\\Flagged', 'Important']);
    expect(removed!.flags).toEqual(['\\Seen']);
    await expect(again.setFlags([1], 'add', ['bad flag'])).rejects.toThrow(/invalid flag/);
  });

  it('expunges only \\Deleted messages and never gives a UID twice', async () => {
    for (const s of ['a', 'b', 'c']) await store.deliver('bob', message(s));
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    await inbox.messages();
    await inbox.setFlags([2, 3], 'add', ['\\Deleted']);
    const expunged: number[] = [];
    store.changes.on('expunged', (c) => expunged.push(c.uid));
    expect(await inbox.expunge([1, 3])).toEqual([3]);
    expect(await inbox.expunge()).toEqual([2]);
    expect(expunged).toEqual([3, 2]);
    await store.deliver('bob', message('d'));
    expect((await inbox.messages()).map((m) => m.uid)).toEqual([1, 4]);
    expect((await inbox.status()).uidNext).toBe(5);
  });

  it('reads a message by UID as a Buffer', async () => {
    const bytes = message('read me');
    await store.deliver('bob', bytes);
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    await inbox.messages();
    expect(await inbox.read(1)).toEqual(bytes);
    await expect(inbox.read(99)).rejects.toThrow(/no message with UID 99 in bob\/INBOX/);
  });

  it('reads into a buffer it is given when the message fits, into a new one when not', async () => {
    const small = message('small');
    const large = Buffer.concat([message('large'), Buffer.alloc(5000, 'x')]);
    await store.deliver('bob', small);
    await store.deliver('bob', large);
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    await inbox.messages();
    const into = Buffer.alloc(1024);
    const read = await inbox.read(1, into);
    expect(read).toEqual(small);
    expect(read.buffer).toBe(into.buffer);
    const again = await inbox.read(2, into);
    expect(again).toEqual(large);
    expect(again.buffer).not.toBe(into.buffer);
    expect(await inbox.readStart(2, 10)).toEqual(large.subarray(0, 10));
    expect(await inbox.readStart(1, 4096)).toEqual(small);
  });

  it('reads a message whole even when the size in its name is wrong (another tool, by hand)', async () => {
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const bytes = Buffer.from('Subject: longer than its name says\r\n\r\nbody\r\n');
    for (const [i, size] of [10, bytes.length + 100].entries())
      writeFileSync(path.join(root, 'bob', 'new', `1700000000.M${i}P1Q1.othertool,S=${size}`), bytes);
    const messages = await inbox.messages();
    expect(messages).toHaveLength(2);
    for (const m of messages) expect(await inbox.read(m.uid)).toEqual(bytes);
  });

  it('reads a message whole after its file was changed on disk, longer or shorter, into a buffer or not', async () => {
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const first = await inbox.append(Buffer.from('Subject: first\r\n\r\nbody\r\n'));
    const second = await inbox.append(Buffer.from('Subject: second\r\n\r\nbody\r\n'));
    expect((await inbox.read(first.uid)).toString()).toContain('first');
    const fileOf = (id: string) => {
      const name = readdirSync(path.join(root, 'bob', 'cur')).find((f) => f.startsWith(id))!;
      return path.join(root, 'bob', 'cur', name);
    };
    // Edited by hand, same name: the size the store knows is now wrong both ways.
    const longer = Buffer.from(`Subject: first, edited\r\n\r\n${'z'.repeat(100_000)}\r\n`);
    const shorter = Buffer.from('Subject: 2\r\n\r\nb\r\n');
    writeFileSync(fileOf(first.id), longer);
    writeFileSync(fileOf(second.id), shorter);
    const into = Buffer.alloc(200_000);
    expect(await inbox.read(first.uid)).toEqual(longer);
    expect(await inbox.read(first.uid, into)).toEqual(longer);
    expect(await inbox.read(second.uid)).toEqual(shorter);
    expect(await inbox.read(second.uid, into)).toEqual(shorter);
    expect(await inbox.readStart(first.uid, 4096)).toEqual(longer.subarray(0, 4096));
    expect(await inbox.readStart(second.uid, 4096)).toEqual(shorter);
  });

  it('appends with flags and a date, copies and moves with new UIDs in the target', async () => {
    const mailbox = await store.mailbox('alice');
    const drafts = await mailbox.folder('Drafts');
    const date = new Date('2024-03-01T10:00:00Z');
    const appended = await drafts.append(message('draft'), {
      flags: ['\\Draft', '\\Seen'],
      internalDate: date,
    });
    expect(appended).toMatchObject({ uid: 1, internalDate: date });
    expect(appended.flags.sort()).toEqual(['\\Draft', '\\Seen']);

    const sent = await mailbox.folder('Sent');
    expect([...(await drafts.copyTo([1], sent))]).toEqual([[1, 1]]);
    expect(await sent.read(1)).toEqual(message('draft'));
    expect((await sent.messages())[0]).toMatchObject({ internalDate: date, flags: appended.flags });

    const trash = await mailbox.folder('Trash');
    expect([...(await drafts.moveTo([1], trash))]).toEqual([[1, 1]]);
    expect(await drafts.messages()).toEqual([]);
    expect(await trash.read(1)).toEqual(message('draft'));
  });
});

describe('\\Recent: the first UID no session has seen (RFC 3501 §2.3.2)', () => {
  it('is taken once, whether the message was delivered, appended or copied, and stays taken after a restart', async () => {
    await store.deliver('bob', message('delivered'));
    const mailbox = await store.mailbox('bob');
    const inbox = await mailbox.folder('INBOX');
    await inbox.append(message('appended'), { flags: ['\\Seen'] });
    expect(await inbox.status()).toMatchObject({ messages: 2, recent: 2, firstRecentUid: 1 });

    const first = await inbox.claimRecent();
    expect(first.claimed).toEqual([1, 2]);
    expect(first.snapshot.status).toMatchObject({ recent: 0, firstRecentUid: 3 });
    expect((await inbox.claimRecent()).claimed).toEqual([]);

    const sent = await mailbox.folder('Sent');
    await inbox.copyTo([1], sent);
    expect((await sent.claimRecent()).claimed).toEqual([1]);

    const restarted = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
    expect(await restarted.status()).toMatchObject({ recent: 0, firstRecentUid: 3 });
    expect((await restarted.claimRecent()).claimed).toEqual([]);
    expect(readFileSync(path.join(root, 'bob', UIDLIST_FILE), 'utf8')).toMatch(/\nfirstrecentuid 3\n$/);
  });

  it('counts nothing recent in a uidlist written before the line existed, and writes the line at the next change', async () => {
    await store.deliver('bob', message('old'));
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    await inbox.messages();
    const file = path.join(root, 'bob', UIDLIST_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^firstrecentuid \d+\n/m, ''));

    const restarted = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
    expect(await restarted.status()).toMatchObject({ messages: 1, recent: 0, firstRecentUid: 2 });
    await restarted.append(message('new'), {});
    expect(await restarted.status()).toMatchObject({ messages: 2, recent: 1, firstRecentUid: 2 });
    expect(readFileSync(file, 'utf8')).toMatch(/\nhighestmodseq \d+\nfirstrecentuid 2\n/);
  });
});

describe('folders', () => {
  it('creates, renames (with subfolders) and deletes folders; UIDVALIDITY is never reused', async () => {
    const mailbox = await store.mailbox('bob');
    await mailbox.createFolder('Work');
    await mailbox.createFolder('Work.Projects');
    const work = await mailbox.folder('Work');
    const { uidValidity } = await work.status();
    await mailbox.renameFolder('Work', 'Job');
    const names = (await mailbox.listFolders()).map((f) => f.name);
    expect(names).toContain('Job.Projects');
    expect(names).not.toContain('Work');
    expect((await (await mailbox.folder('Job')).status()).uidValidity).toBe(uidValidity);
    await expect(mailbox.deleteFolder('Job')).rejects.toThrow(/has subfolders: delete Job.Projects first/);
    await mailbox.deleteFolder('Job.Projects');
    await mailbox.deleteFolder('Job');
    await mailbox.createFolder('Job');
    expect((await (await mailbox.folder('Job')).status()).uidValidity).toBeGreaterThan(uidValidity);
  });

  it('refuses names that are not folder names, and folders that do not exist', async () => {
    const mailbox = await store.mailbox('bob');
    for (const bad of ['../escape', 'a/b', '.hidden', 'INBOX', 'x..y', '']) {
      await expect(mailbox.createFolder(bad)).rejects.toThrow(/invalid folder name|INBOX cannot/);
    }
    await expect(mailbox.folder('Nope')).rejects.toThrow(/no folder 'Nope' in the mailbox of bob/);
    await expect(mailbox.folder('../../etc')).rejects.toThrow(/invalid folder name/);
  });
});

describe('several processes', () => {
  it('never give two messages the same UID', async () => {
    const seen = await runWorkers('./uid-worker.js', root, 4);
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const final = await inbox.messages();
    expect(final).toHaveLength(4 * 25);
    expect(new Set(final.map((m) => m.uid)).size).toBe(100);
    // What each process was told agrees with the final list.
    const uidOf = new Map(final.map((m) => [m.id, m.uid]));
    for (const run of seen) for (const [id, uid] of Object.entries(run)) expect(uidOf.get(id)).toBe(uid);
  });

  it('gives the exact size of a message another tool wrote without ,S= in its name (mutt, procmail)', async () => {
    await store.deliver('bob', message('ours'));
    const bytes = Buffer.from('From: mutt@lab.test\r\nSubject: by hand\r\n\r\nwritten by another tool\r\n');
    writeFileSync(path.join(root, 'bob', 'cur', '1700000000.12345_1.otherhost:2,S'), bytes);
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    const foreign = (await inbox.messages()).find((m) => m.id === '1700000000.12345_1.otherhost');
    expect(foreign?.size).toBe(bytes.length);
    expect(foreign?.flags).toContain('\\Seen');
  });

  it('breaks a lock left by a process that died', async () => {
    await store.deliver('bob', message('locked'));
    writeFileSync(path.join(root, 'bob', `${UIDLIST_FILE}.lock`), '999999999\n');
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    expect(await inbox.messages()).toHaveLength(1);
  });

  it('waits for a live holder however old its lock is, and frees only its own lock', async () => {
    await store.deliver('bob', message('held'));
    const lock = path.join(root, 'bob', `${UIDLIST_FILE}.lock`);
    // Another live process (our parent) holds the lock, taken two minutes ago: a long expunge.
    writeFileSync(lock, `${process.ppid}\n`);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const inbox = await (await store.mailbox('bob')).folder('INBOX');
    let listed = false;
    const listing = inbox.messages().then((m) => {
      listed = true;
      return m;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listed).toBe(false); // not broken: its holder is alive
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}\n`);
    rmSync(lock); // the holder is done
    expect(await listing).toHaveLength(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('gives the lock to one task of this process at a time: none breaks a lock another task holds', async () => {
    // Every task reads a counter, lets the event loop turn (a file write, another client), then
    // writes it back: a task that took the lock while another held it would lose an increment.
    const lockFile = path.join(root, 'counter.lock');
    const counter = path.join(root, 'counter');
    writeFileSync(counter, '0');
    const increment = () =>
      withFileLock(lockFile, async () => {
        const value = Number(readFileSync(counter, 'utf8'));
        await new Promise((resolve) => setImmediate(resolve));
        writeFileSync(counter, String(value + 1));
      });
    await Promise.all(Array.from({ length: 200 }, increment));
    expect(readFileSync(counter, 'utf8')).toBe('200');
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe('unique names', () => {
  it('sort in delivery order, however many digits their parts have', () => {
    const names = [
      '1700000001.M000009P1Q10.h,S=1',
      '1700000001.M000009P1Q9.h,S=1',
      '1700000000.M999999P2Q1.h,S=1',
      'other-tool',
    ];
    expect([...names].sort(compareNames)).toEqual([names[2], names[1], names[0], names[3]]);
    expect(uniqueName(42)).toMatch(/^\d{10}\.M\d{6}P\d+Q\d+\..+,S=42$/);
  });
});
