import { link, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { MailChanges } from './changes.js';
import type { DirectorySyncs } from './durable.js';
import { MailStoreError } from './errors.js';
import { flagsOfInfo, isFilenameFlag, normalizeFlag } from './flags.js';
import { applyToIndex, entriesOf, type FolderIndex, locate, place, type Sub } from './folder-index.js';
import { UidJournal } from './journal.js';
import { withFileLock } from './lock.js';
import { type FolderSnapshot, type FolderStatus, type MessageInfo, MessageInfos } from './message-info.js';
import { sizeOfName, uniqueName } from './names.js';
import { readKnownSize, readKnownSizeNow, readUpTo } from './read-file.js';
import { curName, Failed, type InTmp, moveAllInto, removeAll, SaveQueue, writeToTmp } from './save.js';
import { FolderSync } from './sync.js';
import { UIDLIST_FILE, type UidEntry, type UidListChange } from './uidlist.js';
import type { MailboxUsage } from './usage.js';

export type { FolderSnapshot, FolderStatus, MessageInfo } from './message-info.js';

export type FlagOperation = 'add' | 'remove' | 'replace';

/** What a folder needs from the store it belongs to. */
export interface FolderContext {
  user: string;
  syncs: DirectorySyncs;
  changes: MailChanges;
  /** The mailbox's bytes against its quota: every change of the message files is told to it. */
  usage: MailboxUsage;
  /** A UIDVALIDITY never given to a folder of this mailbox before. */
  newUidValidity(): Promise<number>;
}

/** How many files of one MULTIAPPEND are written to tmp/ at once (libuv's pool has four threads). */
const TMP_WRITERS = 8;

/** A message to append: its bytes, flags and internal date (RFC 3501 §6.3.11). */
export interface AppendInput {
  message: Buffer;
  flags?: string[];
  internalDate?: Date;
}

/** A message to copy: where its file is, and what goes with it. */
interface Source {
  uid: number;
  file: string;
  flags: string[];
  internalDate: Date;
  size: number;
}

/** A message written to a folder's tmp/, with what its uidlist entry needs. */
interface Saving extends InTmp {
  file: string;
  flags: string[];
  internalDate: Date;
}

/**
 * One Maildir folder (INBOX or a `.Name/` of Maildir++): its messages in `new/` and `cur/`, the
 * flags in the file names, the UIDs in `portlab-uidlist`. The operations of IMAP and POP3 live
 * here; each of the ideas under them has its own module, along Dovecot's seams:
 *   - sync.ts, matching the index to the disk (maildir-sync): `this.disk.look()`;
 *   - journal.ts, the uidlist written as a log (maildir-uidlist);
 *   - save.ts, tmp/ then a rename into new/ or cur/, with group commit (maildir-save);
 *   - message-info.ts, the MessageInfo of each message and the shared snapshot (maildir-mail);
 *   - folder-index.ts, the index those share in memory.
 * Every change runs under the folder's lock (one at a time in this process, and against other
 * processes through the dot-lock file).
 */
export class Folder {
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls of exclusive() not yet done (see busy). */
  private locking = 0;
  private readonly infos: MessageInfos;
  private readonly journal: UidJournal;
  private readonly disk: FolderSync;
  private readonly saves: SaveQueue<Saving[], MessageInfo[]>;

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly context: FolderContext,
  ) {
    this.infos = new MessageInfos(dir);
    this.journal = new UidJournal(path.join(dir, UIDLIST_FILE), context.syncs.of(dir));
    this.disk = new FolderSync({
      dir,
      journal: this.journal,
      infos: this.infos,
      newUidValidity: () => context.newUidValidity(),
      exclusive: (fn) => this.exclusive(fn),
    });
    this.saves = new SaveQueue(
      (round) => this.exclusive(round),
      (batch) => this.commitSaves(batch),
    );
  }

  /**
   * Status and messages from one look (SELECT needs both). New files found on disk get their
   * UIDs here, as Dovecot does for mail a delivery agent dropped into new/.
   */
  async snapshot(): Promise<FolderSnapshot> {
    return this.infos.snapshot(await this.disk.look());
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
      const index = await this.disk.look({ locked: true });
      const { firstRecentUid, uidNext, highestModseq } = index.list;
      if (firstRecentUid < uidNext) {
        const change = { upsert: [], expunge: [], uidNext, highestModseq, firstRecentUid: uidNext };
        await this.journal.record(index, change);
        this.applied(index, change);
      }
      const snapshot = this.infos.snapshot(index);
      const { messages } = snapshot;
      // The recent ones are the last in UID order.
      let first = messages.length;
      while (first > 0 && messages[first - 1]!.uid >= firstRecentUid) first--;
      return { snapshot, claimed: messages.slice(first).map((m) => m.uid) };
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
   * no fstat is needed: open, one read, close (read-file.ts, readKnownSize); a file changed on disk
   * since is still read whole, by the size fstat gives for it. A caller reading many messages one
   * after the other (IMAP SEARCH) may give a buffer of its own to read into, used again for the
   * next message; the bytes returned are then a view of it.
   */
  async read(uid: number, into?: Buffer): Promise<Buffer> {
    return this.withFile(uid, (file, size) => readKnownSize(file, size, into));
  }

  /**
   * read() without waiting, for a message of at most `maxSize` bytes: its bytes read on this
   * thread (read-file.ts, readKnownSizeNow), or undefined if it is larger, or if the index does not
   * place its file as it is on disk, or reading it fails (read() then looks at the directories,
   * and says what is wrong). The caller
   * bounds what it reads so between two turns of the event loop (IMAP FETCH: a few hundred KB).
   * Read into `into` if it holds size + 1 bytes, as read() does.
   */
  readNow(uid: number, maxSize: number, into?: Buffer): Buffer | undefined {
    const index = this.disk.index;
    const entry = index?.byUid.get(uid);
    if (!index || !entry || !locate(index, entry.id)) return undefined;
    const size = this.infos.infoOf(index, entry)!.size;
    if (size > maxSize) return undefined;
    try {
      return readKnownSizeNow(this.pathOf(index, entry.id), size, into);
    } catch {
      // Renamed by another process meanwhile, say: read() looks again, and says what is wrong.
      return undefined;
    }
  }

  /**
   * The first `length` bytes of a message (fewer if it is shorter): enough for its header. A
   * message shorter than that is read as read() does, in one read.
   */
  async readStart(uid: number, length: number): Promise<Buffer> {
    return this.withFile(uid, async (file, size) =>
      size < length ? (await readKnownSize(file, size)).subarray(0, length) : readUpTo(file, length),
    );
  }

  /** STORE (RFC 3501 §6.4.6): changes the flags of these messages; returns them as they are now. */
  async setFlags(uids: number[], operation: FlagOperation, flags: string[]): Promise<MessageInfo[]> {
    const wanted = flags.map(normalizeFlag);
    return this.exclusive(async () => {
      // The file names as the index knows them; a file another tool renamed meanwhile fails
      // its rename (ENOENT), and the rest is done again after reading the directories.
      const first = await this.renameForFlags(
        await this.disk.look({ locked: true, dirs: false }),
        uids,
        operation,
        wanted,
      );
      if (!first.stale) return first.changed;
      // Another tool renamed a file under us: read both directories before trying the rest again.
      this.disk.wrote('new', 'cur');
      const again = await this.renameForFlags(
        await this.disk.look({ locked: true }),
        uids,
        operation,
        wanted,
      );
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
    const work = this.disk.writingCur(async () => {
      for (const entry of entriesOf(index, uids)) {
        const where = locate(index, entry.id)!;
        const before = [...flagsOfInfo(where.info), ...entry.keywords];
        const after = applyFlags(before, operation, wanted);
        if (sameSet(before, after)) continue;
        // Any flag change moves the message to cur/: a client has dealt with it (Maildir spec).
        const file = curName(entry.id, after);
        if (where.sub === 'new') this.disk.wrote('new');
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
      if (upsert.length === 0) return;
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      const change = { upsert, expunge: [], uidNext: index.list.uidNext, highestModseq: modseq };
      await this.journal.record(index, change);
      for (const { id, file } of moves) place(index, id, 'cur', file);
      this.applied(index, change);
    });
    await work;
    if (upsert.length === 0) return { changed: [], stale };
    const changed = upsert.map((entry) => this.infos.infoOf(index, entry)!);
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
      const index = await this.disk.look({ locked: true });
      const chosen = uids ? entriesOf(index, uids) : index.list.entries;
      const doomed = chosen.filter((e) => this.infos.infoOf(index, e)?.flags.includes('\\Deleted'));
      return this.remove(index, doomed);
    });
  }

  /** Removes messages whatever their flags (POP3's DELE then QUIT, RFC 1939 §6). */
  async delete(uids: number[]): Promise<number[]> {
    return this.removeUids(uids, true);
  }

  private removeUids(uids: number[], counted: boolean): Promise<number[]> {
    return this.exclusive(async () => {
      const index = await this.disk.look({ locked: true });
      return this.remove(index, entriesOf(index, uids), counted);
    });
  }

  /**
   * Delivery (SMTP's 250, the relay, a lab's fixture): the message goes to tmp/, is flushed, then
   * renamed into new/, and new/ is fsynced (save.ts); only then does this resolve. It gets its UID
   * at the next look, as mail another delivery agent drops into new/ does: the SMTP hot path never
   * takes the folder's lock. The directory fsync is shared by every delivery renamed meanwhile.
   * The quota is the caller's to check, before (MailStore.hold): SMTP refuses the whole message if
   * any of its recipients is full, so it holds room in every mailbox before the first delivery.
   */
  async deliver(message: Buffer): Promise<{ id: string; file: string }> {
    const saved = await writeToTmp(this.dir, message);
    this.disk.wrote('new');
    await moveAllInto(this.dir, 'new', [{ ...saved, file: saved.id }]);
    this.context.usage.changed(message.length);
    await this.context.syncs.of(path.join(this.dir, 'new')).sync();
    this.context.changes.emit('added', { ...this.origin, id: saved.id });
    return { id: saved.id, file: path.join(this.dir, 'new', saved.id) };
  }

  /**
   * APPEND (RFC 3501 §6.3.11): stores a message with its flags and date; returns it with its UID.
   * Appends to this folder waiting at the same time are committed together (save.ts).
   */
  async append(
    message: Buffer,
    options: { flags?: string[]; internalDate?: Date } = {},
  ): Promise<MessageInfo> {
    const [info] = await this.appendAll([{ message, ...options }]);
    return info!;
  }

  /**
   * MULTIAPPEND (RFC 3502): stores every message or none, with consecutive UIDs in the order given
   * (so APPENDUID can name them as a range, RFC 4315 §3). Returns them with their UIDs. Calls to
   * append/appendAll get their UIDs in the order they were made, even when they run at once: the
   * place in the save queue is taken here, before the first await (save.ts, SaveQueue).
   * Messages that together would pass the mailbox's quota are refused, none written: a
   * MailStoreError OVER_QUOTA (IMAP's NO [OVERQUOTA], RFC 9051 §7.1).
   */
  async appendAll(inputs: readonly AppendInput[]): Promise<MessageInfo[]> {
    const wanted = inputs.map((input) => (input.flags ?? []).map(normalizeFlag));
    if (inputs.length === 0) return [];
    const bytes = inputs.reduce((sum, input) => sum + input.message.length, 0);
    // The room is held before the first await, with the place in line: the quota sees this
    // APPEND's bytes whatever runs meanwhile. Counting the total may need a walk (usage.ts).
    const usage = this.context.usage;
    const held = usage.fresh().then(() => usage.holdNow(bytes));
    const written = held.then(() => this.writeAllToTmp(inputs, wanted));
    try {
      return await this.saves.add(written);
    } catch (err) {
      // The lock was never had: nothing was renamed; the files written go from tmp/.
      const saving = await written.catch(() => []);
      await Promise.all(saving.map((s) => unlink(s.tmp).catch(() => undefined)));
      throw err;
    } finally {
      // Once stored, the bytes are counted (commitSaves); refused or failed, they never were.
      (await held.catch(() => undefined))?.();
    }
  }

  /** The files of one appendAll in tmp/, flushed side by side, a few at a time; all, or none left. */
  private async writeAllToTmp(inputs: readonly AppendInput[], wanted: string[][]): Promise<Saving[]> {
    const saving: Saving[] = [];
    let next = 0;
    const writeSome = async () => {
      while (next < inputs.length) {
        const i = next++;
        const input = inputs[i]!;
        const saved = await writeToTmp(this.dir, input.message, input.internalDate);
        saving[i] = {
          ...saved,
          file: curName(saved.id, wanted[i]!),
          flags: wanted[i]!,
          internalDate: input.internalDate ?? new Date(),
        };
      }
    };
    const written = await Promise.allSettled(
      Array.from({ length: Math.min(TMP_WRITERS, inputs.length) }, writeSome),
    );
    const failed = written.find((w) => w.status === 'rejected');
    if (failed) {
      await Promise.all(saving.map((s) => s && unlink(s.tmp).catch(() => undefined)));
      throw failed.reason;
    }
    return saving;
  }

  /** One round of the group commit, under the lock: every waiting save into cur/, one fsync, one uidlist write. */
  private async commitSaves(batch: Saving[][]): Promise<(MessageInfo[] | Failed)[]> {
    const index = await this.disk.look({ locked: true, dirs: false });
    const results: (MessageInfo[] | Failed)[] = [];
    const moved: Saving[][] = [];
    await this.disk.writingCur(async () => {
      for (const saving of batch) {
        try {
          await moveAllInto(this.dir, 'cur', saving);
          moved.push(saving);
          results.push([]);
        } catch (err) {
          results.push(new Failed(err));
        }
      }
      if (moved.length === 0) return;
      const all = moved.flat();
      try {
        await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
        const entries = await this.addEntries(index, all);
        let at = 0;
        for (const [i, r] of results.entries()) {
          if (r instanceof Failed) continue;
          results[i] = entries
            .slice(at, at + batch[i]!.length)
            .map((entry) => this.infos.infoOf(index, entry)!);
          at += batch[i]!.length;
        }
        this.context.usage.changed(all.reduce((sum, s) => sum + (sizeOfName(s.id) ?? 0), 0));
        for (const entry of entries)
          this.context.changes.emit('added', { ...this.origin, id: entry.id, uid: entry.uid });
      } catch (err) {
        // Nothing of this round was told to anyone: take the files back out, so a failed APPEND stores nothing.
        await removeAll(this.dir, 'cur', all);
        throw err;
      }
    });
    return results;
  }

  /**
   * COPY (RFC 3501 §6.4.7): the same bytes, flags and date in another folder, with new UIDs there.
   * A hard link, as Dovecot does: no bytes are copied and the message is on disk once.
   * Returns source UID -> target UID (COPYUID, RFC 4315 §3).
   * The copies count against the target mailbox's quota (usage.ts): copies that would pass it are
   * refused, none made (RFC 9051 §6.4.7, all or nothing): a MailStoreError OVER_QUOTA (IMAP's
   * NO [OVERQUOTA], RFC 9051 §7.1). Their room is held while they are made, so COPYs from two
   * sessions at once pass the quota no more than one after the other.
   */
  async copyTo(uids: number[], target: Folder): Promise<Map<number, number>> {
    const sources = await this.sourcesOf(uids);
    const bytes = sources.reduce((sum, source) => sum + source.size, 0);
    const release = await target.context.usage.hold(bytes, 'the copies need');
    try {
      return await target.linkIn(sources, true);
    } finally {
      // Made, the copies are counted (linkIn); refused or failed, they never were.
      release();
    }
  }

  /**
   * MOVE (RFC 6851 §3.3): COPY, then EXPUNGE of the originals. Within one mailbox the bytes only
   * change folder: the usage does not change, so a MOVE is never refused for the quota (a user at
   * quota files mail away, or moves it to Trash to free room), and the copies are not counted
   * while the originals wait to go (a delivery meanwhile is not refused for bytes about to leave).
   * To another user's mailbox it is a COPY there (quota and all) and an EXPUNGE here.
   */
  async moveTo(uids: number[], target: Folder): Promise<Map<number, number>> {
    if (target.context.usage !== this.context.usage) {
      const mapping = await this.copyTo(uids, target);
      await this.delete([...mapping.keys()]);
      return mapping;
    }
    const sources = await this.sourcesOf(uids);
    try {
      const mapping = await target.linkIn(sources, false);
      const removed = new Set(await this.removeUids([...mapping.keys()], false));
      // An original another session expunged meanwhile was counted off then: its copy counts now.
      this.context.usage.changed(
        sources.filter((s) => !removed.has(s.uid)).reduce((sum, s) => sum + s.size, 0),
      );
      return mapping;
    } catch (err) {
      // Half done (copies made, originals not all gone): the total is counted again from the disk.
      this.context.usage.stale();
      throw err;
    }
  }

  /**
   * The files, flags and dates of messages to copy. Looked up under this folder's lock, which is
   * let go before the target's is taken: holding both at once could deadlock against a copy the
   * other way.
   */
  private sourcesOf(uids: number[]): Promise<Source[]> {
    return this.exclusive(async () => {
      const index = await this.disk.look({ locked: true });
      return entriesOf(index, uids).map((entry) => {
        const info = this.infos.infoOf(index, entry)!;
        return {
          uid: entry.uid,
          file: this.pathOf(index, entry.id),
          flags: info.flags,
          internalDate: info.internalDate,
          size: info.size,
        };
      });
    });
  }

  /** Links the sources in, with new UIDs; `counted`: their bytes are added to the usage (a COPY). */
  private async linkIn(sources: Source[], counted: boolean): Promise<Map<number, number>> {
    return this.exclusive(async () => {
      const index = await this.disk.look({ locked: true, dirs: false });
      const added: { id: string; file: string; internalDate: Date; flags: string[] }[] = [];
      let entries: UidEntry[] = [];
      await this.disk.writingCur(async () => {
        try {
          for (const source of sources) {
            const id = uniqueName(source.size);
            const file = curName(id, source.flags);
            await link(source.file, path.join(this.dir, 'cur', file));
            added.push({ id, file, internalDate: source.internalDate, flags: source.flags });
          }
        } catch (err) {
          // All or nothing (RFC 3501 §6.4.7: a failed COPY copies nothing): undo the links made so far.
          await removeAll(this.dir, 'cur', added);
          throw err;
        }
        if (added.length === 0) return;
        await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
        entries = await this.addEntries(index, added);
        // A link is counted at its size in each folder, as Maildir++ quotas count (usage.ts).
        if (counted) this.context.usage.changed(sources.reduce((sum, source) => sum + source.size, 0));
      });
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
    await this.journal.record(index, change);
    for (const { id, file } of added) place(index, id, 'cur', file);
    this.applied(index, change);
    return upsert;
  }

  /** Unlinks messages; `counted`: their bytes are taken off the usage (all but a MOVE's originals). */
  private async remove(index: FolderIndex, doomed: UidEntry[], counted = true): Promise<number[]> {
    if (doomed.length === 0) return [];
    const gone = doomed.map((e) => e.uid);
    await this.disk.writingCur(async () => {
      const subs = new Set<Sub>();
      for (const entry of doomed) {
        const where = locate(index, entry.id)!;
        if (where.sub === 'new') this.disk.wrote('new');
        const size = this.infos.infoOf(index, entry)?.size ?? 0;
        await unlink(path.join(this.dir, where.sub, where.file)).catch(ignoreMissing);
        if (counted) this.context.usage.changed(-size);
        subs.add(where.sub);
      }
      await Promise.all([...subs].map((sub) => this.context.syncs.of(path.join(this.dir, sub)).sync()));
      const change = {
        upsert: [],
        expunge: gone,
        uidNext: index.list.uidNext,
        highestModseq: index.list.highestModseq + 1,
      };
      await this.journal.record(index, change);
      for (const entry of doomed) place(index, entry.id, null);
      this.applied(index, change);
    });
    for (const uid of gone) this.context.changes.emit('expunged', { ...this.origin, uid });
    return gone;
  }

  /** Applies a change that is on disk to the index in memory, and tells the message-info cache. */
  private applied(index: FolderIndex, change: UidListChange): void {
    const { applied, gone } = applyToIndex(index, change);
    this.infos.changed(applied, change.upsert, gone);
  }

  private pathOf(index: FolderIndex, id: string): string {
    const where = locate(index, id)!;
    return path.join(this.dir, where.sub, where.file);
  }

  /**
   * Runs `fn` with the path and size of a message's file, from the index as it is (no stat per
   * message: a FETCH of 10,000 headers reads 10,000 files, not 30,000). Another process may have
   * renamed the file (a flag change) since the last look: on ENOENT, look again, reading the
   * directories.
   */
  private async withFile<T>(uid: number, fn: (file: string, size: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.disk.wrote('new', 'cur');
      const index = attempt === 0 && this.disk.index ? this.disk.index : await this.disk.look();
      const entry = index.byUid.get(uid);
      if (!entry || !locate(index, entry.id)) {
        if (attempt === 0) continue;
        throw new MailStoreError(
          'NOT_FOUND',
          `no message with UID ${uid} in ${this.context.user}/${this.name}`,
        );
      }
      try {
        return await fn(this.pathOf(index, entry.id), this.infos.infoOf(index, entry)!.size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      }
    }
  }

  /**
   * True while work of this process holds the folder's lock or waits for it (a STORE, an APPEND's
   * commit, a look reading the directories): a look that needs the lock now would wait behind it,
   * for fsyncs. A reader that may answer without the disk (IMAP NOOP) asks this first.
   */
  get busy(): boolean {
    return this.locking > 0;
  }

  /** One change at a time in this process; the dot-lock keeps other processes out meanwhile. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.locking++;
    const run = this.queue.then(() => withFileLock(`${this.journal.file}.lock`, fn));
    this.queue = run.catch(() => undefined);
    const done = () => {
      this.locking--;
    };
    run.then(done, done);
    return run;
  }

  /** Who the change feed says a change belongs to. */
  private get origin(): { user: string; folder: string } {
    return { user: this.context.user, folder: this.name };
  }
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
