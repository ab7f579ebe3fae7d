import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySyncs } from '../src/durable.js';
import { applyToIndex, type FolderIndex, indexOf, locate, place } from '../src/folder-index.js';
import { MailStore } from '../src/index.js';
import { UidJournal } from '../src/journal.js';
import { MessageInfos } from '../src/message-info.js';
import { Failed, SaveQueue } from '../src/save.js';
import { FolderSync, reconcile } from '../src/sync.js';
import { emptyUidList, type UidEntry, type UidListChange } from '../src/uidlist.js';
import { makeTempDir, removeDir } from './temp-dir.js';

/**
 * One test group per module folder.ts was split into (issue #19): the index in memory, the uidlist
 * journal, the message-info cache, the look at the disk, and the save path with its group commit.
 */

let dir: string;
beforeEach(() => {
  dir = makeTempDir('seams');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(dir, sub));
});
afterEach(() => removeDir(dir));

const entry = (uid: number, id: string, keywords: string[] = []): UidEntry => ({
  uid,
  modseq: uid + 1,
  internalDate: 1_700_000_000 + uid,
  id,
  keywords,
});

/** An index of `count` messages, each `m<uid>,S=10` in cur/ with \Seen, as read from a fresh uidlist. */
function indexWith(count: number): FolderIndex {
  const list = emptyUidList(42);
  const index = indexOf({ list, lines: 5, rewrite: false });
  const change: UidListChange = { upsert: [], expunge: [], uidNext: 1, highestModseq: 1 };
  for (let uid = 1; uid <= count; uid++) {
    change.upsert.push(entry(uid, `m${uid},S=10`));
    place(index, `m${uid},S=10`, 'cur', `m${uid},S=10:2,S`);
    change.uidNext = uid + 1;
    change.highestModseq = uid + 1;
  }
  applyToIndex(index, change);
  return index;
}

describe('folder-index: the index in memory', () => {
  it('says a change only added messages, or changed what was there', () => {
    const index = indexWith(2);
    const add = { upsert: [entry(3, 'm3')], expunge: [], uidNext: 4, highestModseq: 4 };
    expect(applyToIndex(index, add).applied).toBe('appended');
    expect(applyToIndex(index, { ...add, upsert: [] }).applied).toBe('none');
    const flag = {
      upsert: [{ ...entry(2, 'm2,S=10'), modseq: 5 }],
      expunge: [],
      uidNext: 4,
      highestModseq: 5,
    };
    expect(applyToIndex(index, flag).applied).toBe('changed');
    expect(index.list.entries.map((e) => e.uid)).toEqual([1, 2, 3]);
    const gone = applyToIndex(index, { upsert: [], expunge: [1], uidNext: 4, highestModseq: 6 });
    expect(gone).toEqual({ applied: 'changed', gone: ['m1,S=10'] });
    expect(
      applyToIndex(index, { upsert: [], expunge: [], uidNext: 4, highestModseq: 6, firstRecentUid: 4 })
        .applied,
    ).toBe('changed');
  });

  it('knows where each file is, cur/ before new/, and forgets a file placed nowhere', () => {
    const index = indexWith(1);
    place(index, 'x', 'new', 'x');
    expect(locate(index, 'x')).toEqual({ sub: 'new', file: 'x', info: '' });
    place(index, 'x', 'cur', 'x:2,FS');
    expect(locate(index, 'x')).toEqual({ sub: 'cur', file: 'x:2,FS', info: 'FS' });
    expect(index.dirs.new.names.has('x')).toBe(false);
    place(index, 'x', null);
    expect(locate(index, 'x')).toBeUndefined();
  });
});

describe('journal: the uidlist written as a log', () => {
  it('appends a change as lines, and rewrites the file whole when it was torn', async () => {
    const journal = new UidJournal(path.join(dir, 'portlab-uidlist'), new DirectorySyncs().of(dir));
    const index = indexOf({ list: emptyUidList(7), lines: 0, rewrite: false });
    await journal.record(index, { upsert: [], expunge: [], uidNext: 1, highestModseq: 1 }, true);
    const header = readFileSync(journal.file, 'utf8');
    expect(header).toBe('portlab-uidlist 1\nuidvalidity 7\nuidnext 1\nhighestmodseq 1\nfirstrecentuid 1\n');
    expect(journal.stamp).toEqual(await journal.now());

    const change = {
      upsert: [entry(1, 'a'), entry(2, 'b', ['Work'])],
      expunge: [],
      uidNext: 3,
      highestModseq: 3,
    };
    await journal.record(index, change);
    applyToIndex(index, change);
    expect(readFileSync(journal.file, 'utf8')).toBe(`${header}1 2 1700000001 a\n2 3 1700000002 b Work\n`);
    expect(index.lines).toBe(7);

    // A torn last line (a crash during an append): the next record replaces the file.
    index.rewrite = true;
    await journal.record(index, { upsert: [], expunge: [1], uidNext: 3, highestModseq: 4 });
    expect((await journal.read())!.list.entries.map((e) => e.id)).toEqual(['b']);
    expect(readFileSync(journal.file, 'utf8')).not.toContain('expunge');
    expect(index.rewrite).toBe(false);
  });
});

describe('message-info: the cache and the snapshot', () => {
  it('extends the snapshot when messages were only added, equal to one built whole', () => {
    const index = indexWith(3);
    const infos = new MessageInfos(dir);
    const first = infos.snapshot(index);
    expect(infos.snapshot(index)).toBe(first);
    place(index, 'new1,S=10', 'cur', 'new1,S=10:2,');
    const change = { upsert: [entry(4, 'new1,S=10')], expunge: [], uidNext: 5, highestModseq: 5 };
    const { applied } = applyToIndex(index, change);
    infos.changed(applied, change.upsert);
    const extended = infos.snapshot(index);
    expect(extended).not.toBe(first);
    expect(first.messages).toHaveLength(3);
    expect(extended).toEqual(new MessageInfos(dir).snapshot(index));
    expect(extended.status).toMatchObject({ messages: 4, unseen: 1, recent: 4, uidNext: 5 });
    // The messages already there are the same objects: nothing was rebuilt for them.
    expect(extended.messages[0]).toBe(first.messages[0]);
  });

  it('reads the size of a file whose name does not say it (mutt), once', () => {
    writeFileSync(path.join(dir, 'cur', 'mutt1:2,S'), 'Subject: x\r\n\r\nbody\r\n');
    const index = indexWith(0);
    place(index, 'mutt1', 'cur', 'mutt1:2,S');
    const infos = new MessageInfos(dir);
    expect(infos.infoOf(index, entry(1, 'mutt1'))).toMatchObject({ uid: 1, size: 20, flags: ['\\Seen'] });
  });
});

describe('sync: matching the index to the disk', () => {
  it('reconciles only the files that moved: a foreign rename, a file gone, a file come', async () => {
    const index = indexWith(3);
    writeFileSync(path.join(dir, 'cur', 'later'), 'x');
    writeFileSync(path.join(dir, 'cur', 'earlier'), 'x');
    place(index, 'm1,S=10', 'cur', 'm1,S=10:2,FS');
    place(index, 'm2,S=10', null);
    place(index, 'later', 'cur', 'later');
    place(index, 'earlier', 'cur', 'earlier');
    const moved = {
      gone: ['m1,S=10:2,S', 'm2,S=10:2,S'],
      came: ['m1,S=10:2,FS', 'later', 'earlier'],
    };
    const change: UidListChange = { upsert: [], expunge: [], uidNext: 4, highestModseq: 4 };
    await reconcile(dir, index, index, moved, change);
    expect(change.expunge).toEqual([2]);
    expect(change.upsert.map((e) => [e.uid, e.id, e.modseq])).toEqual([
      [1, 'm1,S=10', 5],
      [4, 'earlier', 7],
      [5, 'later', 8],
    ]);
  });

  it('looks at every entry when the list was just read, whatever moved', async () => {
    const before = indexWith(2);
    const index = indexWith(2);
    place(index, 'm2,S=10', null);
    const change: UidListChange = { upsert: [], expunge: [], uidNext: 3, highestModseq: 3 };
    await reconcile(dir, index, before, { gone: [], came: [] }, change);
    expect(change.expunge).toEqual([2]);
  });

  /** A FolderSync over the temp folder, with a lock that is a plain queue (one process). */
  function syncOf(assumeCurMs?: number) {
    const journal = new UidJournal(path.join(dir, 'portlab-uidlist'), new DirectorySyncs().of(dir));
    let queue: Promise<unknown> = Promise.resolve();
    const sync = new FolderSync(
      {
        dir,
        journal,
        infos: new MessageInfos(dir),
        newUidValidity: async () => 99,
        exclusive: (fn) => {
          const run = queue.then(fn);
          queue = run.catch(() => undefined);
          return run;
        },
      },
      assumeCurMs,
    );
    return sync;
  }

  /** Our own write into cur/ (message 'ours' with \Seen), cur/'s mtime then set to a fixed second. */
  function writeOurs(sync: FolderSync) {
    return sync.writingCur(async () => {
      writeFileSync(path.join(dir, 'cur', 'ours:2,S'), 'x');
      place(sync.index!, 'ours', 'cur', 'ours:2,S');
      applyToIndex(sync.index!, { upsert: [entry(1, 'ours')], expunge: [], uidNext: 2, highestModseq: 2 });
      utimesSync(path.join(dir, 'cur'), 1_700_000_000, 1_700_000_000);
    });
  }

  it('reads cur/ again once its time to trust our own write is over', async () => {
    const sync = syncOf(0);
    await sync.look();
    await writeOurs(sync);
    // Another tool drops a file in the same tick: cur/'s mtime is as our write left it.
    writeFileSync(path.join(dir, 'cur', 'theirs:2,'), 'y');
    utimesSync(path.join(dir, 'cur'), 1_700_000_000, 1_700_000_000);
    const index = await sync.look();
    expect([...index.dirs.cur.files.keys()].sort()).toEqual(['ours', 'theirs']);
    expect(index.list.entries.map((e) => e.id)).toEqual(['ours', 'theirs']);
  });

  it('sees a change of cur/ made after our own write at the next look, in the time it trusts that write', async () => {
    const sync = syncOf();
    await sync.look();
    await writeOurs(sync);
    writeFileSync(path.join(dir, 'cur', 'theirs:2,'), 'y');
    const index = await sync.look();
    expect(index.list.entries.map((e) => e.id).sort()).toEqual(['ours', 'theirs']);
  });
});

describe('save: tmp/ then a rename, and the group commit', () => {
  /** A lock this test holds and lets go of. */
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    let queue: Promise<unknown> = opened;
    const exclusive = (round: () => Promise<void>) => {
      const run = queue.then(round);
      queue = run.catch(() => undefined);
      return run;
    };
    return { open, exclusive };
  }

  it('commits every save waiting for the lock in one round; later ones in the next', async () => {
    const { open, exclusive } = gate();
    const rounds: string[][] = [];
    let late: Promise<string> | null = null;
    const queue: SaveQueue<string, string> = new SaveQueue(exclusive, async (items) => {
      rounds.push(items);
      late ??= queue.add('late');
      return items.map((i) => i.toUpperCase());
    });
    const first = ['a', 'b', 'c'].map((i) => queue.add(i));
    open();
    expect(await Promise.all(first)).toEqual(['A', 'B', 'C']);
    expect(await late).toBe('LATE');
    expect(rounds).toEqual([['a', 'b', 'c'], ['late']]);
  });

  it('fails only the save that failed, or the whole round when the round fails', async () => {
    const { open, exclusive } = gate();
    const queue = new SaveQueue<string, string>(exclusive, async (items) => {
      if (items.includes('disk full')) throw new Error('ENOSPC');
      return items.map((i) => (i === 'bad' ? new Failed(new Error(`refused ${i}`)) : i));
    });
    const saves = [queue.add('good'), queue.add('bad')];
    open();
    await expect(saves[0]).resolves.toBe('good');
    await expect(saves[1]).rejects.toThrow('refused bad');
    await expect(queue.add('disk full')).rejects.toThrow('ENOSPC');
  });

  it('commits saves in the order they were added, even when a later one is ready first', async () => {
    const { open, exclusive } = gate();
    const rounds: string[][] = [];
    const queue = new SaveQueue<string, string>(exclusive, async (items) => {
      rounds.push(items);
      return items;
    });
    open();
    let ready!: (item: string) => void;
    const slow = queue.add(new Promise<string>((resolve) => (ready = resolve)));
    const fast = queue.add('second');
    // A save whose tmp/ write failed leaves the line without holding up the ones after it.
    const broken = queue.add(Promise.reject(new Error('EIO in tmp/'))).catch((err: Error) => err.message);
    const after = queue.add('fourth');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rounds).toEqual([]);
    ready('first');
    expect(await Promise.all([slow, fast, after])).toEqual(['first', 'second', 'fourth']);
    expect(await broken).toBe('EIO in tmp/');
    expect(rounds.flat()).toEqual(['first', 'second', 'fourth']);
  });

  it('gives concurrent appends their UIDs in the order they were called, large ones first', async () => {
    const root = makeTempDir('save');
    try {
      const folder = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
      // The first messages are the largest: their tmp/ writes end last.
      const saved = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          folder.append(Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat((30 - i) * 20_000)}\r\n`)),
        ),
      );
      const uids = saved.map((m) => m.uid);
      expect(uids).toEqual([...uids].sort((a, b) => a - b));
      expect(new Set(uids).size).toBe(30);
    } finally {
      removeDir(root);
    }
  });

  it('gives 40 concurrent APPENDs distinct UIDs, every one in the uidlist and none left in tmp/', async () => {
    const root = makeTempDir('save');
    try {
      const store = new MailStore(root);
      const folder = await (await store.mailbox('bob')).folder('Drafts');
      const saved = await Promise.all(
        Array.from({ length: 40 }, (_, i) => folder.append(Buffer.from(`Subject: ${i}\r\n\r\n${i}\r\n`))),
      );
      expect(new Set(saved.map((m) => m.uid)).size).toBe(40);
      const list = readFileSync(path.join(root, 'bob', '.Drafts', 'portlab-uidlist'), 'utf8');
      for (const m of saved) expect(list).toContain(` ${m.id}`);
      expect(readdirSync(path.join(root, 'bob', '.Drafts', 'tmp'))).toEqual([]);
      const restarted = await (await new MailStore(root).mailbox('bob')).folder('Drafts');
      expect((await restarted.messages()).map((m) => m.uid).sort((a, b) => a - b)).toEqual(
        saved.map((m) => m.uid).sort((a, b) => a - b),
      );
    } finally {
      removeDir(root);
    }
  });

  it('appendAll stores a set with consecutive UIDs, or nothing when one message is refused (a bad flag)', async () => {
    const root = makeTempDir('save');
    try {
      const store = new MailStore(root);
      const folder = await (await store.mailbox('bob')).folder('INBOX');
      const body = (n: number) => Buffer.from(`Subject: ${n}\r\n\r\n${n}\r\n`);
      const stored = await folder.appendAll([
        { message: body(1), flags: ['\\Seen'] },
        { message: body(2), internalDate: new Date('2020-01-02T03:04:05Z') },
        { message: body(3), flags: ['Work'] },
      ]);
      expect(stored.map((m) => m.uid)).toEqual([1, 2, 3]);
      expect(stored.map((m) => m.flags)).toEqual([['\\Seen'], [], ['Work']]);
      expect(stored[1]!.internalDate).toEqual(new Date('2020-01-02T03:04:05Z'));
      expect(await folder.read(3)).toEqual(body(3));

      await expect(
        folder.appendAll([{ message: body(4) }, { message: body(5), flags: ['bad flag'] }]),
      ).rejects.toThrow(/invalid flag/);
      expect((await folder.messages()).map((m) => m.uid)).toEqual([1, 2, 3]);
      expect(readdirSync(path.join(root, 'bob', 'tmp'))).toEqual([]);
      expect(readdirSync(path.join(root, 'bob', 'cur'))).toHaveLength(3);
    } finally {
      removeDir(root);
    }
  });

  it('keeps every APPEND it acknowledged, with its UID, when one of two appending processes is killed', async () => {
    const root = makeTempDir('save');
    try {
      await new MailStore(root).mailbox('bob');
      const worker = fileURLToPath(new URL('./append-worker.js', import.meta.url));
      const acked: { id: string; uid: number; body: string }[] = [];
      const run = (n: number, killAfter?: number) =>
        new Promise<void>((resolve, reject) => {
          const child = fork(worker, [root, String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          let mine = 0;
          child.on('message', (m: { id?: string; uid?: number; body?: string; done?: boolean }) => {
            if (m.done) return;
            acked.push(m as { id: string; uid: number; body: string });
            if (killAfter !== undefined && ++mine === killAfter) child.kill('SIGKILL');
          });
          child.once('exit', (code, signal) =>
            code === 0 || signal === 'SIGKILL'
              ? resolve()
              : reject(new Error(`worker ${n} exited with ${code}`)),
          );
        });
      await Promise.all([run(0, 20), run(1)]);
      const inbox = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
      const byId = new Map((await inbox.messages()).map((m) => [m.id, m]));
      expect(acked.length).toBeGreaterThanOrEqual(80);
      for (const { id, uid, body } of acked) {
        expect(byId.get(id)?.uid).toBe(uid);
        expect((await inbox.read(uid)).toString()).toBe(body);
      }
      expect(new Set([...byId.values()].map((m) => m.uid)).size).toBe(byId.size);
    } finally {
      removeDir(root);
    }
  });
});
