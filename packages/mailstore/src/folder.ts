import { createReadStream, statSync } from 'node:fs';
import { link, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { MailChanges } from './changes.js';
import type { DirectorySyncs } from './durable.js';
import { writeDurably } from './durable.js';
import { MailStoreError } from './errors.js';
import {
  flagsOfInfo,
  INFO_SEPARATOR,
  infoOfFlags,
  infoPart,
  isFilenameFlag,
  normalizeFlag,
  uniqueNameOf,
} from './flags.js';
import { withFileLock } from './lock.js';
import { compareNames, sizeOfName, uniqueName } from './names.js';
import { readUpTo } from './read-file.js';
import { type Stamp, stampOf, unchanged } from './stamp.js';
import {
  appendUidList,
  applyChange,
  emptyUidList,
  readUidList,
  type StoredUidList,
  UIDLIST_FILE,
  type UidEntry,
  type UidList,
  type UidListChange,
  writeUidList,
} from './uidlist.js';

/** A message as IMAP sees it (RFC 3501 §2.3). */
export interface MessageInfo {
  uid: number;
  /** The Maildir unique name: stable across flag changes; POP3's UIDL is made from the UID. */
  id: string;
  /** System flags (\Seen...) and keywords. */
  flags: string[];
  /** RFC822.SIZE: the bytes of the file, CRLF line ends included. */
  size: number;
  internalDate: Date;
  modseq: number;
}

export interface FolderStatus {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** The messages with this UID or higher are \Recent: no session has taken them yet (claimRecent). */
  firstRecentUid: number;
  messages: number;
  unseen: number;
  /** How many messages are \Recent (RFC 3501 §2.3.2). */
  recent: number;
}

/**
 * The folder's status and messages from one look. The same object (and the same MessageInfo
 * objects) is handed to every caller until the folder changes, so a hundred IMAP sessions with the
 * folder selected share one copy: read it, never modify it.
 */
export interface FolderSnapshot {
  readonly status: FolderStatus;
  /** In UID order. */
  readonly messages: readonly MessageInfo[];
}

export type FlagOperation = 'add' | 'remove' | 'replace';

type Sub = 'new' | 'cur';

/** Where a message's file is right now. */
interface Located {
  sub: Sub;
  file: string;
  info: string;
}

const SUBS: readonly Sub[] = ['new', 'cur'];

/** One directory as last read: its file names, and the file of each message by unique name. */
interface DirListing {
  names: Set<string>;
  files: Map<string, string>;
}

/**
 * What this process knows of the folder, kept between looks: the UID list, and the file of each
 * message in new/ and cur/. UIDs and MODSEQs enter it only once they are on disk, so a reader
 * never sees one that a crash could take back.
 */
interface FolderIndex {
  list: UidList;
  byUid: Map<number, UidEntry>;
  byId: Map<string, UidEntry>;
  dirs: Record<Sub, DirListing>;
  /** Lines in the uidlist file, to know when to compact it. */
  lines: number;
  /** The file ends in a line an append cut short, or predates a header line: the next write rewrites it whole. */
  rewrite: boolean;
}

/** What a folder needs from the store it belongs to. */
export interface FolderContext {
  user: string;
  syncs: DirectorySyncs;
  changes: MailChanges;
  /** A UIDVALIDITY never given to a folder of this mailbox before. */
  newUidValidity(): Promise<number>;
}

/** Appended lines beyond this (plus twice the messages) and the uidlist is rewritten whole. */
const COMPACT_AFTER_LINES = 1000;

/**
 * One Maildir folder (INBOX or a `.Name/` of Maildir++): its messages in `new/` and `cur/`, the
 * flags in the file names, the UIDs in `portlab-uidlist`. Every change runs under the folder's
 * lock (one at a time in this process, and against other processes through the dot-lock file).
 *
 * Looking at a folder is cheap when nothing changed: the index of the last look is kept, and three
 * stat() calls (new/, cur/ and the uidlist; see stamp.ts) tell whether the disk still matches it.
 * Only a directory whose stamp changed is read again, and the uidlist only if another process
 * wrote it. This process's own changes update the index in place, and mark the directories they
 * wrote as to be read again (another process may have changed them in the same instant).
 */
export class Folder {
  private queue: Promise<unknown> = Promise.resolve();
  private index: FolderIndex | null = null;
  private readonly stamps: Record<Sub | 'list', Stamp | null> = { new: null, cur: null, list: null };
  private snapshotNow: FolderSnapshot | null = null;
  /** One MessageInfo per message, rebuilt only when its entry or its file changes. */
  private readonly infos = new Map<string, { entry: UidEntry; where: string; info: MessageInfo }>();
  /** Sizes of messages whose file names do not carry `,S=` (see sizeOnDisk), by unique name. */
  private readonly foreignSizes = new Map<string, number>();
  /** A look waiting for the lock: callers that arrive meanwhile share it. */
  private refreshing: Promise<FolderIndex> | null = null;
  /** Counts this process's writes to new/ and cur/: a look that saw one begin keeps no stamp. */
  private writes = 0;

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly context: FolderContext,
  ) {}

  /**
   * Status and messages from one look (SELECT needs both). New files found on disk get their
   * UIDs here, as Dovecot does for mail a delivery agent dropped into new/.
   */
  async snapshot(): Promise<FolderSnapshot> {
    await this.current();
    this.snapshotNow ??= this.build(this.index!);
    return this.snapshotNow;
  }

  /**
   * \Recent (RFC 3501 §2.3.2): a new message is recent in exactly one session, the first to
   * select the folder read-write after it arrived, however it arrived (delivery, APPEND, COPY).
   * This takes the recent messages for the caller: under the lock, the look and the move of
   * `firstrecentuid` up to UIDNEXT are one step, so two sessions (or two processes) never both
   * get a message; the line is flushed before the answer, so a restart does not make them recent
   * again. Returns the snapshot of that look and the UIDs taken (all in it).
   */
  async claimRecent(): Promise<{ snapshot: FolderSnapshot; claimed: number[] }> {
    // Nothing to take (the usual case when news is only flag changes): no lock, no write.
    const looked = await this.snapshot();
    if (looked.status.firstRecentUid >= looked.status.uidNext) return { snapshot: looked, claimed: [] };
    return this.exclusive(async () => {
      const index = await this.sync();
      const { firstRecentUid, uidNext, highestModseq } = index.list;
      if (firstRecentUid < uidNext) {
        const change = { upsert: [], expunge: [], uidNext, highestModseq, firstRecentUid: uidNext };
        await this.record(index, change);
        this.commit(index, change);
      }
      this.snapshotNow ??= this.build(index);
      const { messages } = this.snapshotNow;
      // The recent ones are the last in UID order.
      let first = messages.length;
      while (first > 0 && messages[first - 1]!.uid >= firstRecentUid) first--;
      return { snapshot: this.snapshotNow, claimed: messages.slice(first).map((m) => m.uid) };
    });
  }

  /** Every message, in UID order. */
  async messages(): Promise<MessageInfo[]> {
    return [...(await this.snapshot()).messages];
  }

  async status(): Promise<FolderStatus> {
    return (await this.snapshot()).status;
  }

  /**
   * A message's bytes, exactly as stored. The size is known (the name's `,S=`, or read once), so
   * no fstat is needed; one byte more than it is asked, and a file longer than its name says is
   * still read whole. A caller reading many messages one after the other (IMAP SEARCH) may give
   * a buffer of its own to read into, used again for the next message; the bytes returned are
   * then a view of it.
   */
  async read(uid: number, into?: Buffer): Promise<Buffer> {
    return this.withFile(uid, async (file, size) => {
      const bytes = await readUpTo(file, size + 1, into);
      return bytes.length <= size ? bytes : readFile(file);
    });
  }

  /** The first `length` bytes of a message (fewer if it is shorter): enough for its header. */
  async readStart(uid: number, length: number): Promise<Buffer> {
    return this.withFile(uid, (file) => readUpTo(file, length));
  }

  /** A message's bytes as a stream, for large messages (IMAP FETCH BODY[], POP3 RETR). */
  async stream(uid: number): Promise<Readable> {
    return this.withFile(uid, async (file) => {
      const stream = createReadStream(file);
      // Opening is asynchronous: wait for it, so a file renamed away meanwhile fails here, not later.
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      return stream;
    });
  }

  /** STORE (RFC 3501 §6.4.6): changes the flags of these messages; returns them as they are now. */
  async setFlags(uids: number[], operation: FlagOperation, flags: string[]): Promise<MessageInfo[]> {
    const wanted = flags.map(normalizeFlag);
    return this.exclusive(async () => {
      // The file names as the index knows them; a file another tool renamed meanwhile fails
      // its rename (ENOENT), and the rest is done again after reading the directories.
      const first = await this.renameForFlags(await this.sync(false), uids, operation, wanted);
      if (!first.stale) return first.changed;
      const again = await this.renameForFlags(await this.sync(true), uids, operation, wanted);
      return [...first.changed, ...again.changed];
    });
  }

  private async renameForFlags(
    index: FolderIndex,
    uids: number[],
    operation: FlagOperation,
    wanted: string[],
  ): Promise<{ changed: MessageInfo[]; stale: boolean }> {
    const upsert: UidEntry[] = [];
    const moves: { id: string; file: string }[] = [];
    let modseq = index.list.highestModseq;
    let stale = false;
    for (const entry of this.entriesOf(index, uids)) {
      const where = this.locate(index, entry.id)!;
      const before = [...flagsOfInfo(where.info), ...entry.keywords];
      const after = applyFlags(before, operation, wanted);
      if (sameSet(before, after)) continue;
      // Any flag change moves the message to cur/: a client has dealt with it (Maildir spec).
      const file = `${entry.id}${INFO_SEPARATOR}${infoOfFlags(after)}`;
      this.wrote(where.sub, 'cur');
      try {
        await rename(path.join(this.dir, where.sub, where.file), path.join(this.dir, 'cur', file));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        stale = true;
        break;
      }
      moves.push({ id: entry.id, file });
      upsert.push({ ...entry, keywords: after.filter((f) => !isFilenameFlag(f)), modseq: ++modseq });
    }
    if (upsert.length === 0) return { changed: [], stale };
    await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
    const change = { upsert, expunge: [], uidNext: index.list.uidNext, highestModseq: modseq };
    await this.record(index, change);
    for (const { id, file } of moves) place(index, id, 'cur', file);
    this.commit(index, change);
    const changed = upsert.map((entry) => this.infoOf(index, entry)!);
    for (const m of changed)
      this.context.changes.emit('flags', { ...this.origin, uid: m.uid, flags: m.flags, modseq: m.modseq });
    return { changed, stale };
  }

  /**
   * EXPUNGE (RFC 3501 §6.4.3): removes the messages flagged \Deleted, or with `uids` only those of
   * them (UID EXPUNGE, RFC 4315 §2.1). Returns the UIDs removed.
   */
  async expunge(uids?: number[]): Promise<number[]> {
    return this.exclusive(async () => {
      const index = await this.sync();
      const chosen = uids ? this.entriesOf(index, uids) : index.list.entries;
      const doomed = chosen.filter((e) => this.infoOf(index, e)?.flags.includes('\\Deleted'));
      return this.remove(index, doomed);
    });
  }

  /** Removes messages whatever their flags (POP3's DELE then QUIT, RFC 1939 §6). */
  async delete(uids: number[]): Promise<number[]> {
    return this.exclusive(async () => {
      const index = await this.sync();
      return this.remove(index, this.entriesOf(index, uids));
    });
  }

  /** APPEND (RFC 3501 §6.3.11): stores a message with its flags and date; returns it with its UID. */
  async append(
    message: Buffer,
    options: { flags?: string[]; internalDate?: Date } = {},
  ): Promise<MessageInfo> {
    const flags = (options.flags ?? []).map(normalizeFlag);
    const id = uniqueName(message.length);
    const tmp = path.join(this.dir, 'tmp', id);
    await writeDurably(tmp, message, options.internalDate);
    return this.exclusive(async () => {
      const index = await this.sync(false);
      const file = `${id}${INFO_SEPARATOR}${infoOfFlags(flags)}`;
      this.wrote('cur');
      await rename(tmp, path.join(this.dir, 'cur', file));
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      const [entry] = await this.addEntries(index, [
        { id, file, internalDate: options.internalDate ?? new Date(), flags },
      ]);
      this.context.changes.emit('added', { ...this.origin, id, uid: entry!.uid });
      return this.infoOf(index, entry!)!;
    });
  }

  /**
   * COPY (RFC 3501 §6.4.7): the same bytes, flags and date in another folder, with new UIDs there.
   * A hard link, as Dovecot does: no bytes are copied and the message is on disk once.
   * Returns source UID -> target UID (COPYUID, RFC 4315 §3).
   */
  async copyTo(uids: number[], target: Folder): Promise<Map<number, number>> {
    // Look the sources up, then let go of this folder before locking the target: holding both
    // locks at once could deadlock against a copy the other way.
    const sources = await this.exclusive(async () => {
      const index = await this.sync();
      return this.entriesOf(index, uids).map((entry) => {
        const info = this.infoOf(index, entry)!;
        return {
          uid: entry.uid,
          file: this.pathOf(index, entry.id),
          flags: info.flags,
          internalDate: info.internalDate,
          size: info.size,
        };
      });
    });
    return target.linkIn(sources);
  }

  /** MOVE (RFC 6851): COPY, then EXPUNGE of the originals. */
  async moveTo(uids: number[], target: Folder): Promise<Map<number, number>> {
    const mapping = await this.copyTo(uids, target);
    await this.delete([...mapping.keys()]);
    return mapping;
  }

  /** For MailStore.deliver: a message was renamed into new/; the next look must read new/. */
  delivered(): void {
    this.wrote('new');
  }

  private async linkIn(
    sources: { uid: number; file: string; flags: string[]; internalDate: Date; size: number }[],
  ): Promise<Map<number, number>> {
    return this.exclusive(async () => {
      const index = await this.sync(false);
      const added: { id: string; file: string; internalDate: Date; flags: string[] }[] = [];
      this.wrote('cur');
      try {
        for (const source of sources) {
          const id = uniqueName(source.size);
          const file = `${id}${INFO_SEPARATOR}${infoOfFlags(source.flags)}`;
          await link(source.file, path.join(this.dir, 'cur', file));
          added.push({ id, file, internalDate: source.internalDate, flags: source.flags });
        }
      } catch (err) {
        // All or nothing (RFC 3501 §6.4.7: a failed COPY copies nothing): undo the links made so far.
        await Promise.all(
          added.map((a) => unlink(path.join(this.dir, 'cur', a.file)).catch(() => undefined)),
        );
        throw err;
      }
      if (added.length === 0) return new Map();
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      const entries = await this.addEntries(index, added);
      for (const entry of entries)
        this.context.changes.emit('added', { ...this.origin, id: entry.id, uid: entry.uid });
      return new Map(sources.map((source, i) => [source.uid, entries[i]!.uid]));
    });
  }

  /** Gives messages now in cur/ their UIDs; they are told to nobody before the uidlist holds them. */
  private async addEntries(
    index: FolderIndex,
    added: { id: string; file: string; internalDate: Date; flags: string[] }[],
  ): Promise<UidEntry[]> {
    let { uidNext, highestModseq } = index.list;
    const upsert = added.map(({ id, internalDate, flags }) => ({
      uid: uidNext++,
      modseq: ++highestModseq,
      internalDate: Math.floor(internalDate.getTime() / 1000),
      id,
      keywords: flags.filter((f) => !isFilenameFlag(f)),
    }));
    const change = { upsert, expunge: [], uidNext, highestModseq };
    await this.record(index, change);
    for (const { id, file } of added) place(index, id, 'cur', file);
    this.commit(index, change);
    return upsert;
  }

  private async remove(index: FolderIndex, doomed: UidEntry[]): Promise<number[]> {
    if (doomed.length === 0) return [];
    const subs = new Set<Sub>();
    for (const entry of doomed) {
      const where = this.locate(index, entry.id)!;
      this.wrote(where.sub);
      await unlink(path.join(this.dir, where.sub, where.file)).catch(ignoreMissing);
      subs.add(where.sub);
    }
    await Promise.all([...subs].map((sub) => this.context.syncs.of(path.join(this.dir, sub)).sync()));
    const gone = doomed.map((e) => e.uid);
    const change = {
      upsert: [],
      expunge: gone,
      uidNext: index.list.uidNext,
      highestModseq: index.list.highestModseq + 1,
    };
    await this.record(index, change);
    for (const entry of doomed) place(index, entry.id, null);
    this.commit(index, change);
    for (const uid of gone) this.context.changes.emit('expunged', { ...this.origin, uid });
    return gone;
  }

  /** The index, looked at again first if the disk may have changed since. */
  private async current(): Promise<FolderIndex> {
    if (this.index && (await this.fresh())) return this.index;
    return this.refresh();
  }

  /** True if new/, cur/ and the uidlist are as the index last saw them. */
  private async fresh(): Promise<boolean> {
    const [fresh, cur, list] = await Promise.all([
      stampOf(path.join(this.dir, 'new')),
      stampOf(path.join(this.dir, 'cur')),
      stampOf(this.listFile, { racy: false }),
    ]);
    return (
      unchanged(this.stamps.new, fresh) &&
      unchanged(this.stamps.cur, cur) &&
      unchanged(this.stamps.list, list)
    );
  }

  /**
   * A look under the lock. Callers arriving while one waits for the lock join it: it will look
   * after whatever made them ask. One that is already looking may have looked too early for them.
   */
  private refresh(): Promise<FolderIndex> {
    if (this.refreshing) return this.refreshing;
    const run: Promise<FolderIndex> = this.exclusive(() => {
      if (this.refreshing === run) this.refreshing = null;
      return this.sync();
    });
    this.refreshing = run;
    run.catch(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    return run;
  }

  /**
   * Brings the index in line with the disk, under the lock: the uidlist read again if another
   * process wrote it, new/ and cur/ read again if they changed (or `dirs` is false: a change that
   * only needs the uidlist to be current, such as APPEND, leaves them for the next look). Files that
   * appeared (delivered to new/, or dropped in by another tool) get the next UIDs; entries whose
   * file is gone are dropped; a file renamed by another tool (mutt setting \Seen) gets a new MODSEQ
   * so IMAP clients hear of it. Only new/ and cur/ are read: a file still in tmp/ (a delivery in
   * progress, or one cut short by a crash) is never a message.
   */
  private async sync(dirs = true): Promise<FolderIndex> {
    const writes = this.writes;
    // The stamps first: a change made after them shows at the next look.
    const [newStamp, curStamp, listStamp] = await Promise.all([
      stampOf(path.join(this.dir, 'new')),
      stampOf(path.join(this.dir, 'cur')),
      stampOf(this.listFile, { racy: false }),
    ]);
    const before = this.index;
    let index = before;
    let whole = false;
    if (!index || !unchanged(this.stamps.list, listStamp)) {
      const stored = await readUidList(this.listFile);
      whole = stored === null;
      const read = stored ?? {
        list: emptyUidList(await this.context.newUidValidity()),
        lines: 0,
        rewrite: false,
      };
      index = indexOf(read, before?.dirs);
    }
    const reread = index !== before;
    // Another process changed the list: the snapshot of the old one is no longer the folder.
    if (reread) this.snapshotNow = null;
    const moved: Moved = { gone: [], came: [] };
    const stamps = { new: newStamp, cur: curStamp };
    // new/ before cur/: a message moved from one to the other meanwhile is then seen in both, not in neither.
    const looked: Sub[] = [];
    for (const sub of SUBS) {
      const stale = !before || !unchanged(this.stamps[sub], stamps[sub]);
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
    await this.reconcile(index, reread ? null : moved, before, moved, change);
    if (whole || change.upsert.length || change.expunge.length) await this.record(index, change, whole);
    else this.stamps.list = listStamp;
    this.commit(index, change);
    // A write of ours began during the look: the directory must be read again next time.
    if (this.writes === writes) for (const sub of looked) this.stamps[sub] = stamps[sub];
    this.index = index;
    return index;
  }

  /**
   * Reads a directory again and applies the difference to its listing: a Set lookup per file, and
   * work only for the names that went or came.
   */
  private async rescan(index: FolderIndex, sub: Sub, moved: Moved): Promise<void> {
    const listing = index.dirs[sub];
    const names = (await readdir(path.join(this.dir, sub))).filter((name) => !name.startsWith('.'));
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
    if (moved.gone.length || moved.came.length) this.snapshotNow = null;
  }

  /**
   * What the files on disk change in the list: new UIDs, entries gone, MODSEQs for foreign renames.
   * `only` limits the look to the files that went or came (the list is the one the index had);
   * null looks at every entry and file (the list was just read).
   */
  private async reconcile(
    index: FolderIndex,
    only: Moved | null,
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
    if (only) {
      for (const name of only.gone) {
        const entry = index.byId.get(uniqueNameOf(name));
        if (entry && fileOf(entry.id) === undefined) change.expunge.push(entry.uid);
      }
      for (const name of only.came) if (!index.byId.has(uniqueNameOf(name))) fresh.add(uniqueNameOf(name));
    } else {
      const known = new Set<string>();
      for (const entry of index.list.entries) {
        if (fileOf(entry.id) === undefined || known.has(entry.id)) change.expunge.push(entry.uid);
        else known.add(entry.id);
      }
      for (const sub of SUBS)
        for (const id of index.dirs[sub].files.keys()) if (!known.has(id)) fresh.add(id);
    }
    if (change.expunge.length) change.highestModseq++;
    for (const id of [...fresh].sort(compareNames)) {
      const sub = index.dirs.cur.files.has(id) ? 'cur' : 'new';
      const info = await stat(path.join(this.dir, sub, index.dirs[sub].files.get(id)!)).catch(() => null);
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

  /**
   * Writes a change to the uidlist before anyone is told of it: appended (one line per message
   * changed), or the whole list replaced atomically when the appended lines grew too many.
   */
  private async record(index: FolderIndex, change: UidListChange, whole = false): Promise<void> {
    const { list } = index;
    if (whole || index.rewrite || index.lines > COMPACT_AFTER_LINES + 2 * list.entries.length) {
      const next = applyChange(list, change);
      await writeUidList(this.listFile, next);
      await this.context.syncs.of(this.dir).sync();
      index.lines = 5 + next.entries.length;
      index.rewrite = false;
    } else {
      try {
        index.lines += await appendUidList(this.listFile, change);
      } catch (err) {
        // Part of the line may be in the file (a full disk): the next write rewrites it whole.
        index.rewrite = true;
        this.stamps.list = null;
        throw err;
      }
    }
    // Under the lock nobody else writes the list: this stamp is our own write.
    this.stamps.list = await stampOf(this.listFile, { racy: false });
  }

  /** Applies a change that is on disk to the index in memory. */
  private commit(index: FolderIndex, change: UidListChange): void {
    const { list } = index;
    if (
      change.upsert.length === 0 &&
      change.expunge.length === 0 &&
      change.uidNext === list.uidNext &&
      change.highestModseq === list.highestModseq &&
      (change.firstRecentUid ?? list.firstRecentUid) === list.firstRecentUid
    )
      return;
    if (change.expunge.length) {
      const gone = new Set(change.expunge);
      for (const uid of gone) {
        const entry = index.byUid.get(uid);
        index.byUid.delete(uid);
        if (entry && index.byId.get(entry.id) === entry) {
          index.byId.delete(entry.id);
          this.infos.delete(entry.id);
        }
      }
      list.entries = list.entries.filter((e) => !gone.has(e.uid));
    }
    for (const entry of change.upsert) {
      if (index.byUid.has(entry.uid)) list.entries[positionOf(list.entries, entry.uid)] = entry;
      else list.entries.push(entry);
      index.byUid.set(entry.uid, entry);
      index.byId.set(entry.id, entry);
    }
    list.uidNext = change.uidNext;
    list.highestModseq = change.highestModseq;
    list.firstRecentUid = change.firstRecentUid ?? list.firstRecentUid;
    this.snapshotNow = null;
  }

  /** This process is about to write these directories: the next look reads them again. */
  private wrote(...subs: Sub[]): void {
    this.writes++;
    for (const sub of subs) this.stamps[sub] = null;
    this.snapshotNow = null;
  }

  private build(index: FolderIndex): FolderSnapshot {
    const messages: MessageInfo[] = [];
    let unseen = 0;
    let recent = 0;
    for (const entry of index.list.entries) {
      const info = this.infoOf(index, entry);
      if (!info) continue;
      messages.push(info);
      if (!info.flags.includes('\\Seen')) unseen++;
      if (info.uid >= index.list.firstRecentUid) recent++;
    }
    const { uidValidity, uidNext, highestModseq, firstRecentUid } = index.list;
    return {
      status: {
        uidValidity,
        uidNext,
        highestModseq,
        firstRecentUid,
        messages: messages.length,
        unseen,
        recent,
      },
      messages,
    };
  }

  private locate(index: FolderIndex, id: string): Located | undefined {
    for (const sub of ['cur', 'new'] as const) {
      const file = index.dirs[sub].files.get(id);
      if (file !== undefined) return { sub, file, info: infoPart(file) };
    }
    return undefined;
  }

  private infoOf(index: FolderIndex, entry: UidEntry): MessageInfo | undefined {
    const where = this.locate(index, entry.id);
    if (!where) return undefined;
    const key = `${where.sub}/${where.file}`;
    const cached = this.infos.get(entry.id);
    if (cached?.entry === entry && cached.where === key) return cached.info;
    const info: MessageInfo = {
      uid: entry.uid,
      id: entry.id,
      flags: [...flagsOfInfo(where.info), ...entry.keywords],
      size: sizeOfName(entry.id) ?? this.sizeOnDisk(entry.id, where),
      internalDate: new Date(entry.internalDate * 1000),
      modseq: entry.modseq,
    };
    this.infos.set(entry.id, { entry, where: key, info });
    return info;
  }

  /**
   * The size of a message whose name does not say it (`,S=` is Dovecot's habit, not every tool's:
   * mutt and procmail leave it out), read once from the file and remembered: RFC822.SIZE and POP3's
   * LIST must be exact.
   */
  private sizeOnDisk(id: string, where: Located): number {
    let size = this.foreignSizes.get(id);
    if (size === undefined) {
      size = statSync(path.join(this.dir, where.sub, where.file), { throwIfNoEntry: false })?.size ?? 0;
      this.foreignSizes.set(id, size);
    }
    return size;
  }

  /** The entries of these UIDs that exist, in UID order. */
  private entriesOf(index: FolderIndex, uids: number[]): UidEntry[] {
    return [...new Set(uids)].sort((a, b) => a - b).flatMap((uid) => index.byUid.get(uid) ?? []);
  }

  private pathOf(index: FolderIndex, id: string): string {
    const where = this.locate(index, id)!;
    return path.join(this.dir, where.sub, where.file);
  }

  private get listFile(): string {
    return path.join(this.dir, UIDLIST_FILE);
  }

  /**
   * Runs `fn` with the path and size of a message's file, from the index as it is (no stat per
   * message: a FETCH of 10,000 headers reads 10,000 files, not 30,000). Another process may have
   * renamed the file (a flag change) since the last look: on ENOENT, look again, reading the
   * directories.
   */
  private async withFile<T>(uid: number, fn: (file: string, size: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.wrote('new', 'cur');
      const index = attempt === 0 && this.index ? this.index : await this.current();
      const entry = index.byUid.get(uid);
      if (!entry || !this.locate(index, entry.id)) {
        if (attempt === 0) continue;
        throw new MailStoreError(
          'NOT_FOUND',
          `no message with UID ${uid} in ${this.context.user}/${this.name}`,
        );
      }
      try {
        return await fn(this.pathOf(index, entry.id), this.infoOf(index, entry)!.size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      }
    }
  }

  /** One change at a time in this process; the dot-lock keeps other processes out meanwhile. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => withFileLock(`${this.listFile}.lock`, fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Who the change feed says a change belongs to. */
  private get origin(): { user: string; folder: string } {
    return { user: this.context.user, folder: this.name };
  }
}

/** The file names that went from, and came to, the directories read again in one look. */
interface Moved {
  gone: string[];
  came: string[];
}

/** An index for a list read from disk; the directories as last read are kept until read again. */
function indexOf(stored: StoredUidList, dirs?: Record<Sub, DirListing>): FolderIndex {
  const byUid = new Map<number, UidEntry>();
  const byId = new Map<string, UidEntry>();
  for (const entry of stored.list.entries) {
    byUid.set(entry.uid, entry);
    if (!byId.has(entry.id)) byId.set(entry.id, entry);
  }
  return {
    list: stored.list,
    byUid,
    byId,
    dirs: dirs ?? {
      new: { names: new Set(), files: new Map() },
      cur: { names: new Set(), files: new Map() },
    },
    lines: stored.lines,
    rewrite: stored.rewrite,
  };
}

/** Records where a message's file is now: `file` in `to`, or nowhere (null). */
function place(index: FolderIndex, id: string, to: Sub | null, file = ''): void {
  for (const sub of SUBS) {
    const listing = index.dirs[sub];
    const old = listing.files.get(id);
    if (old === undefined) continue;
    listing.files.delete(id);
    listing.names.delete(old);
  }
  if (to) {
    index.dirs[to].files.set(id, file);
    index.dirs[to].names.add(file);
  }
}

/** Where a UID is in a list in UID order (binary search). */
function positionOf(entries: UidEntry[], uid: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = entries[mid]!.uid;
    if (at === uid) return mid;
    if (at < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function applyFlags(current: string[], operation: FlagOperation, flags: string[]): string[] {
  if (operation === 'replace') return [...new Set(flags)];
  if (operation === 'add') return [...new Set([...current, ...flags])];
  return current.filter((f) => !flags.includes(f));
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
