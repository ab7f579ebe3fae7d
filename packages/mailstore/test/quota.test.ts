// The mailbox quota (usage.ts): the bytes of every folder's message files, counted once from the
// disk, then kept by this process's own changes; room held for writes under way.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailStore, MailStoreError } from '../src/index.js';
import { makeTempDir, removeDir } from './temp-dir.js';

let root: string;
let store: MailStore;

beforeEach(() => {
  root = makeTempDir('quota');
  store = new MailStore(root, { quotaBytes: 1000 });
});
afterEach(() => removeDir(root));

const bytes = (n: number) => Buffer.alloc(n, 'x');
const used = async (user = 'bob') => (await store.mailbox(user)).usage.bytes();
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'stored',
    (err) => (err instanceof MailStoreError ? err.code : String(err)),
  );

describe('the bytes a mailbox holds', () => {
  it('are counted from the disk at first use: every folder, new/ and cur/, names with and without ,S=', async () => {
    const dir = path.join(root, 'bob');
    await store.deliver('bob', bytes(100));
    await (await (await store.mailbox('bob')).folder('Sent')).append(bytes(200));
    // A file of another tool (no ,S=), and one in tmp/ (a delivery not made: not counted).
    writeFileSync(path.join(dir, '.Drafts', 'cur', '1700000000.M1P1Q1.host:2,S'), bytes(50));
    writeFileSync(path.join(dir, 'tmp', '1700000000.M2P1Q1.host'), bytes(400));
    // A new process (another MailStore) counts them: 100 + 200 + 50.
    store = new MailStore(root, { quotaBytes: 1000 });
    expect(await used()).toBe(350);
  });

  it('follow delivery, APPEND, COPY, MOVE, EXPUNGE and POP3 DELE without walking the disk again', async () => {
    expect(await used()).toBe(0);
    await store.deliver('bob', bytes(100));
    const mailbox = await store.mailbox('bob');
    const inbox = await mailbox.folder('INBOX');
    const drafts = await mailbox.folder('Drafts');
    const [a, b] = await drafts.appendAll([
      { message: bytes(200) },
      { message: bytes(300), flags: ['\\Deleted'] },
    ]);
    expect(await used()).toBe(600);
    // A file put by hand is not seen before the next count (RECOUNT_MS): the total is kept in memory.
    mkdirSync(path.join(root, 'bob', 'cur'), { recursive: true });
    writeFileSync(path.join(root, 'bob', 'cur', '1700000000.M1P1Q1.host:2,'), bytes(10));
    expect(await used()).toBe(600);
    // A COPY counts again (a hard link, counted per folder as Maildir++ does); a MOVE does not.
    await drafts.copyTo([a!.uid], inbox);
    expect(await used()).toBe(800);
    await drafts.moveTo([a!.uid], await mailbox.folder('Sent'));
    expect(await used()).toBe(800);
    expect(await drafts.expunge()).toEqual([b!.uid]);
    expect(await used()).toBe(500);
    const uids = (await inbox.messages()).map((m) => m.uid);
    await inbox.delete(uids);
    // The file put by hand went with them (it had a UID in INBOX): 10 bytes were never counted.
    expect(await used()).toBe(200 - 10);
  });

  it('are counted again after a folder is deleted', async () => {
    const mailbox = await store.mailbox('bob');
    await mailbox.createFolder('Old');
    await (await mailbox.folder('Old')).append(bytes(300));
    expect(await used()).toBe(300);
    await mailbox.deleteFolder('Old');
    expect(await used()).toBe(0);
  });
});

describe('the quota', () => {
  it('refuses an APPEND or MULTIAPPEND that would pass it, storing nothing', async () => {
    const drafts = await (await store.mailbox('bob')).folder('Drafts');
    await drafts.append(bytes(600));
    expect(await codeOf(drafts.append(bytes(401)))).toBe('OVER_QUOTA');
    expect(await codeOf(drafts.appendAll([{ message: bytes(200) }, { message: bytes(201) }]))).toBe(
      'OVER_QUOTA',
    );
    expect(await drafts.messages()).toHaveLength(1);
    expect(readdirSync(path.join(root, 'bob', '.Drafts', 'tmp'))).toEqual([]);
    // Exactly up to the quota fits.
    await drafts.append(bytes(400));
    expect(await used()).toBe(1000);
    expect(await store.full('bob')).toBe(true);
  });

  it('holds room for writes under way: APPENDs at once pass it no more than one by one', async () => {
    const drafts = await (await store.mailbox('bob')).folder('Drafts');
    const results = await Promise.all(Array.from({ length: 5 }, () => codeOf(drafts.append(bytes(300)))));
    expect(results.filter((r) => r === 'stored')).toHaveLength(3);
    expect(results.filter((r) => r === 'OVER_QUOTA')).toHaveLength(2);
    expect(await used()).toBe(900);
  });

  it('hold(): room in every mailbox or in none; released, it is room again', async () => {
    await store.deliver('alice', bytes(900));
    await expect(store.hold(['bob', 'alice'], 200)).rejects.toMatchObject({
      code: 'OVER_QUOTA',
      user: 'alice',
    });
    expect(await used('bob')).toBe(0);
    const release = await store.hold(['bob'], 700);
    expect(await used('bob')).toBe(700);
    await expect(store.hold(['bob'], 301)).rejects.toMatchObject({ code: 'OVER_QUOTA' });
    release();
    release(); // twice: once only
    expect(await used('bob')).toBe(0);
  });

  it('refuses a COPY that would pass it, copying none (RFC 9051 §6.4.7), and makes one that fits', async () => {
    const mailbox = await store.mailbox('bob');
    const drafts = await mailbox.folder('Drafts');
    const sent = await mailbox.folder('Sent');
    const [a, b] = await drafts.appendAll([{ message: bytes(300) }, { message: bytes(200) }]);
    // 500 used: both copied would make 1000 + 500.
    await drafts.copyTo([a!.uid, b!.uid], sent);
    await expect(drafts.copyTo([a!.uid, b!.uid], sent)).rejects.toMatchObject({
      code: 'OVER_QUOTA',
      message: expect.stringMatching(/the copies need 500 bytes/),
    });
    expect(await sent.messages()).toHaveLength(2);
    expect(readdirSync(path.join(root, 'bob', '.Sent', 'cur'))).toHaveLength(2);
    expect(await used()).toBe(1000);
  });

  it('holds room for COPYs under way: COPYs at once pass it no more than one by one', async () => {
    const mailbox = await store.mailbox('bob');
    const drafts = await mailbox.folder('Drafts');
    const a = await drafts.append(bytes(300));
    const results = await Promise.all(
      ['Sent', 'Trash', 'Junk', 'Sent'].map(async (name) =>
        codeOf(drafts.copyTo([a.uid], await mailbox.folder(name))),
      ),
    );
    expect(results.filter((r) => r === 'stored')).toHaveLength(2);
    expect(await used()).toBe(900);
  });

  it('never refuses a MOVE within the mailbox, which changes nothing, even at the quota', async () => {
    const mailbox = await store.mailbox('bob');
    const inbox = await mailbox.folder('INBOX');
    const trash = await mailbox.folder('Trash');
    await store.deliver('bob', bytes(400));
    const a = await inbox.append(bytes(600));
    expect(await store.full('bob')).toBe(true);
    // While the copy is made and the original not yet gone, the bytes are not counted twice: a
    // delivery at that moment is judged on the 1000 bytes the mailbox holds, not 1600.
    const seen: (string | undefined)[] = [];
    const onAdded = () => seen.push(mailbox.usage.refusal(0)?.code);
    store.changes.on('added', onAdded);
    const mapping = await inbox.moveTo([a.uid], trash);
    store.changes.off('added', onAdded);
    expect(seen).toEqual([undefined]);
    expect(await used()).toBe(1000);
    expect(await trash.messages()).toHaveLength(1);
    // Back again, the uid the move gave it, and RENAME INBOX's move of everything.
    await trash.moveTo([mapping.get(a.uid)!], inbox);
    expect(await used()).toBe(1000);
    expect(await trash.messages()).toHaveLength(0);
  });

  it('is no limit for a store made without one (the tools, the web app)', async () => {
    const unlimited = new MailStore(root);
    const drafts = await (await unlimited.mailbox('bob')).folder('Drafts');
    await drafts.append(bytes(5000));
    expect(await unlimited.full('bob')).toBe(false);
  });
});
