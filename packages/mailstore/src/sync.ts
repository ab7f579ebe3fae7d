import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { infoPart, uniqueNameOf } from './flags.js';
import { applyToIndex, type FolderIndex, indexOf, SUBS, type Sub } from './folder-index.js';
import type { UidJournal } from './journal.js';
import type { MessageInfos } from './message-info.js';
import { compareNames } from './names.js';
import { type Stamp, stampOf, unchanged } from './stamp.js';
import { emptyUidList, type UidListChange } from './uidlist.js';

/** What a look needs from its folder. */
export interface SyncContext {
  dir: string;
  journal: UidJournal;
  infos: MessageInfos;
  /** A UIDVALIDITY never given to a folder of this mailbox before (for a folder without a uidlist). */
  newUidValidity(): Promise<number>;
  /** Runs `fn` under the folder's lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** The file names that went from, and came to, the directories read again in one look. */
export interface Moved {
  gone: string[];
  came: string[];
}

/**
 * How long this process trusts its own idea of cur/ after writing it (Dovecot's MAILDIR_SYNC_SECS
 * and `dirty_cur_time`, maildir-sync.c): one second.
 */
export const ASSUME_CUR_MS = 1000;

/**
 * Matching the index to the disk: the role of Dovecot's maildir-sync. There is one way to look,
 * `look()`; it is cheap when nothing changed: three stat() calls (new/, cur/ and the uidlist; see
 * stamp.ts) tell whether the disk still matches the index. Only a directory whose stamp changed is
 * read again, and the uidlist only if another process wrote it.
 *
 * This process's own changes update the index in place. A write to new/ (a delivery, not under the
 * lock) drops new/'s stamp, so the next look reads it. A write to cur/ is made under the lock, as
 * every portlab process writes cur/: if cur/ was as the index knew it just before, the index is
 * right just after, and is trusted for up to a second (ASSUME_CUR_MS) without reading cur/ again,
 * as Dovecot does. Reading a directory of 10,000 names after each APPEND made the rate fall with
 * the folder's size (issue #20). What the second bounds: a file another tool (mutt) renamed in cur/
 * in the same instant as our write is seen at the first look a second later, or at once when
 * reading it fails with ENOENT.
 */
export class FolderSync {
  /** What this process knows of the folder, kept between looks. */
  index: FolderIndex | null = null;
  private readonly stamps: Record<Sub, Stamp | null> = { new: null, cur: null };
  /** Counts this process's writes to new/ and cur/: a look that saw one begin keeps no stamp. */
  private writes = 0;
  /** A look waiting for the lock: callers that arrive meanwhile share it. */
  private refreshing: Promise<FolderIndex> | null = null;
  /** When cur/ was last read (its stamp is from then). */
  private curReadAt = 0;
  /** Since when the index's cur/ is our own idea of it, not what readdir said (null: it is what readdir said). */
  private curAssumedSince: number | null = null;

  constructor(
    private readonly context: SyncContext,
    private readonly assumeCurMs = ASSUME_CUR_MS,
  ) {}

  /**
   * The one way to look at the disk: the index, brought in line with new/, cur/ and the uidlist.
   * - `{}` (a reader: SELECT, STATUS, NOOP): the stamps are compared without the lock; if anything
   *   changed, a look under the lock (callers arriving while one waits for the lock share it).
   * - `{ locked: true }`: the caller holds the lock (a change is about to be made): look now.
   * - `{ locked: true, dirs: false }`: a change that only needs the uidlist to be current (APPEND,
   *   COPY into the folder, a first try of STORE) leaves new/ and cur/ for the next look.
   */
  async look({
    locked = false,
    dirs = true,
  }: {
    locked?: boolean;
    dirs?: boolean;
  } = {}): Promise<FolderIndex> {
    if (locked) return this.sync(dirs);
    if (this.index && (await this.unchangedOnDisk())) return this.index;
    if (this.refreshing) return this.refreshing;
    const run: Promise<FolderIndex> = this.context.exclusive(() => {
      if (this.refreshing === run) this.refreshing = null;
      return this.sync(true);
    });
    this.refreshing = run;
    run.catch(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    return run;
  }

  /** This process is about to write these directories: the next look reads them again. */
  wrote(...subs: Sub[]): void {
    this.writes++;
    for (const sub of subs) {
      this.stamps[sub] = null;
      if (sub === 'cur') this.curAssumedSince = null;
    }
  }

  /**
   * A write of ours to cur/, under the lock: `write` renames, links or unlinks there and puts the
   * result in the index. If cur/ was as the index knew it before, the index is trusted after it
   * (see the class comment); otherwise the next look reads cur/.
   */
  async writingCur<T>(write: () => Promise<T>): Promise<T> {
    const curDir = path.join(this.context.dir, 'cur');
    const known = this.stamps.cur;
    const before = await stampOf(curDir);
    const since = known?.trusted ? Date.now() : (this.curAssumedSince ?? this.curReadAt);
    const current = known !== null && sameStamp(known, before) && (known.trusted || this.within(since));
    this.wrote('cur');
    const result = await write();
    if (current) {
      // Never trusted for itself: a change of another tool in the same tick as ours shares its mtime.
      const after = await stampOf(curDir);
      this.stamps.cur = after && { ...after, trusted: false };
      this.curAssumedSince = since;
    }
    return result;
  }

  /** True if new/, cur/ and the uidlist are as the index last saw them. */
  private async unchangedOnDisk(): Promise<boolean> {
    const [fresh, cur, list] = await Promise.all([
      stampOf(path.join(this.context.dir, 'new')),
      stampOf(path.join(this.context.dir, 'cur')),
      this.context.journal.now(),
    ]);
    return (
      unchanged(this.stamps.new, fresh) &&
      this.curUnchanged(cur) &&
      unchanged(this.context.journal.stamp, list)
    );
  }

  private curUnchanged(now: Stamp | null): boolean {
    const known = this.stamps.cur;
    if (unchanged(known, now)) return true;
    return (
      known !== null &&
      sameStamp(known, now) &&
      this.curAssumedSince !== null &&
      this.within(this.curAssumedSince)
    );
  }

  private within(since: number): boolean {
    return Date.now() - since < this.assumeCurMs;
  }

  /**
   * Brings the index in line with the disk, under the lock: the uidlist read again if another
   * process wrote it, new/ and cur/ read again if they changed (unless `dirs` is false). Files that
   * appeared (delivered to new/, or dropped in by another tool) get the next UIDs; entries whose
   * file is gone are dropped; a file renamed by another tool (mutt setting \Seen) gets a new MODSEQ
   * so IMAP clients hear of it. Only new/ and cur/ are read: a file still in tmp/ (a delivery in
   * progress, or one cut short by a crash) is never a message.
   */
  private async sync(dirs: boolean): Promise<FolderIndex> {
    const { journal, infos } = this.context;
    const writes = this.writes;
    // The stamps first: a change made after them shows at the next look.
    const lookedAt = Date.now();
    const [newStamp, curStamp, listStamp] = await Promise.all([
      stampOf(path.join(this.context.dir, 'new')),
      stampOf(path.join(this.context.dir, 'cur')),
      journal.now(),
    ]);
    const before = this.index;
    let index = before;
    let whole = false;
    if (!index || !unchanged(journal.stamp, listStamp)) {
      const stored = await journal.read();
      whole = stored === null;
      const read = stored ?? {
        list: emptyUidList(await this.context.newUidValidity()),
        lines: 0,
        rewrite: false,
      };
      index = indexOf(read, before?.dirs);
      // Another process changed the list: the snapshot of the old one is no longer the folder.
      infos.forgetSnapshot();
    }
    const reread = index !== before;
    const moved: Moved = { gone: [], came: [] };
    const stamps = { new: newStamp, cur: curStamp };
    const looked: Sub[] = [];
    for (const sub of SUBS) {
      const stale =
        !before || (sub === 'cur' ? !this.curUnchanged(curStamp) : !unchanged(this.stamps.new, newStamp));
      // A file gone from new/ most likely moved to cur/ (mutt does that): read cur/ too.
      const followMoves = sub === 'cur' && moved.gone.length > 0;
      if (!(stale && (dirs || reread)) && !followMoves) continue;
      await this.rescan(index, sub, moved);
      looked.push(sub);
    }
    const change: UidListChange = {
      upsert: [],
      expunge: [],
      uidNext: index.list.uidNext,
      highestModseq: index.list.highestModseq,
    };
    await reconcile(this.context.dir, index, before, moved, change);
    if (whole || change.upsert.length || change.expunge.length) await journal.record(index, change, whole);
    else journal.stamp = listStamp;
    const { applied, gone } = applyToIndex(index, change);
    infos.changed(applied, change.upsert, gone);
    // A write of ours began during the look: the directory must be read again next time.
    if (this.writes === writes)
      for (const sub of looked) {
        this.stamps[sub] = stamps[sub];
        if (sub === 'cur') {
          this.curReadAt = lookedAt;
          this.curAssumedSince = null;
        }
      }
    this.index = index;
    return index;
  }

  /**
   * Reads a directory again and applies the difference to its listing: a Set lookup per file, and
   * work only for the names that went or came.
   */
  private async rescan(index: FolderIndex, sub: Sub, moved: Moved): Promise<void> {
    const listing = index.dirs[sub];
    const names = (await readdir(path.join(this.context.dir, sub))).filter((name) => !name.startsWith('.'));
    const now = new Set(names);
    for (const name of listing.names) {
      if (now.has(name)) continue;
      moved.gone.push(name);
      const id = uniqueNameOf(name);
      if (listing.files.get(id) === name) listing.files.delete(id);
    }
    for (const name of names) {
      if (listing.names.has(name)) continue;
      moved.came.push(name);
      listing.files.set(uniqueNameOf(name), name);
    }
    listing.names = now;
    if (moved.gone.length || moved.came.length) this.context.infos.forgetSnapshot();
  }
}

/**
 * What the files on disk change in the list: new UIDs, entries gone, MODSEQs for foreign renames.
 * `moved` are the names that went and came in the directories read again. If the list is the one
 * the index had (`before`), only those files need a look; if it was just read from disk, every
 * entry and file is looked at.
 */
export async function reconcile(
  dir: string,
  index: FolderIndex,
  before: FolderIndex | null,
  moved: Moved,
  change: UidListChange,
): Promise<void> {
  const fileOf = (id: string) => index.dirs.cur.files.get(id) ?? index.dirs.new.files.get(id);
  // A message another tool renamed to other flags: it went under one name and came under another.
  const wentAs = new Map(moved.gone.map((name) => [uniqueNameOf(name), name]));
  for (const name of moved.came) {
    const id = uniqueNameOf(name);
    const old = wentAs.get(id);
    const entry = index.byId.get(id);
    if (old === undefined || !entry || infoPart(old) === infoPart(name)) continue;
    // Another portlab recorded the change with its MODSEQ already if the entry changed.
    if (before && before !== index && before.byId.get(id)?.modseq !== entry.modseq) continue;
    change.upsert.push({ ...entry, modseq: ++change.highestModseq });
  }
  const fresh = new Set<string>();
  if (before === index) {
    for (const name of moved.gone) {
      const entry = index.byId.get(uniqueNameOf(name));
      if (entry && fileOf(entry.id) === undefined) change.expunge.push(entry.uid);
    }
    for (const name of moved.came) if (!index.byId.has(uniqueNameOf(name))) fresh.add(uniqueNameOf(name));
  } else {
    const known = new Set<string>();
    for (const entry of index.list.entries) {
      if (fileOf(entry.id) === undefined || known.has(entry.id)) change.expunge.push(entry.uid);
      else known.add(entry.id);
    }
    for (const sub of SUBS) for (const id of index.dirs[sub].files.keys()) if (!known.has(id)) fresh.add(id);
  }
  if (change.expunge.length) change.highestModseq++;
  for (const id of [...fresh].sort(compareNames)) {
    const sub = index.dirs.cur.files.has(id) ? 'cur' : 'new';
    const info = await stat(path.join(dir, sub, index.dirs[sub].files.get(id)!)).catch(() => null);
    if (!info) continue;
    change.upsert.push({
      uid: change.uidNext++,
      modseq: ++change.highestModseq,
      internalDate: Math.floor(info.mtimeMs / 1000),
      id,
      keywords: [],
    });
  }
}

/** Same mtime, size and inode, whatever the trust. */
function sameStamp(a: Stamp, b: Stamp | null): boolean {
  return b !== null && a.mtimeNs === b.mtimeNs && a.size === b.size && a.ino === b.ino;
}
