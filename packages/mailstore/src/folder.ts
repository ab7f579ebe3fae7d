import { createReadStream } from 'node:fs';
import { link, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { MailChanges } from './changes.js';
import type { DirectorySyncs } from './durable.js';
import { writeDurably } from './durable.js';
import { flagsOfInfo, INFO_SEPARATOR, infoOfFlags, isFilenameFlag, normalizeFlag } from './flags.js';
import { withFileLock } from './lock.js';
import { compareNames, sizeOfName, uniqueName } from './names.js';
import {
  emptyUidList,
  readUidList,
  UIDLIST_FILE,
  type UidEntry,
  type UidList,
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
  /** Still in new/: no mail client has looked at it yet (the basis of IMAP's \Recent). */
  recent: boolean;
}

export interface FolderStatus {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  recent: number;
}

export type FlagOperation = 'add' | 'remove' | 'replace';

/** Where a message's file is right now. */
interface Located {
  sub: 'new' | 'cur';
  file: string;
  info: string;
}

/** What a folder needs from the store it belongs to. */
export interface FolderContext {
  user: string;
  syncs: DirectorySyncs;
  changes: MailChanges;
  /** A UIDVALIDITY never given to a folder of this mailbox before. */
  newUidValidity(): Promise<number>;
}

/**
 * One Maildir folder (INBOX or a `.Name/` of Maildir++): its messages in `new/` and `cur/`, the
 * flags in the file names, the UIDs in `portlab-uidlist`. Every change runs under the folder's
 * lock (one at a time in this process, and against other processes through the dot-lock file).
 */
export class Folder {
  private queue: Promise<unknown> = Promise.resolve();
  /** The state read at the last sync. */
  private list: UidList | null = null;
  private located = new Map<string, Located>();

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly context: FolderContext,
  ) {}

  /** Every message, in UID order. New files found on disk get their UIDs here (as Dovecot does). */
  async messages(): Promise<MessageInfo[]> {
    const list = await this.exclusive(() => this.sync());
    return list.entries.flatMap((entry) => this.infoOf(entry) ?? []);
  }

  async status(): Promise<FolderStatus> {
    const messages = await this.messages();
    const list = this.list!;
    return {
      uidValidity: list.uidValidity,
      uidNext: list.uidNext,
      highestModseq: list.highestModseq,
      messages: messages.length,
      unseen: messages.filter((m) => !m.flags.includes('\\Seen')).length,
      recent: messages.filter((m) => m.recent).length,
    };
  }

  /** A message's bytes, exactly as stored. */
  async read(uid: number): Promise<Buffer> {
    return this.withFile(uid, (file) => readFile(file));
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
      const list = await this.sync();
      const changed: MessageInfo[] = [];
      for (const entry of this.entriesOf(list, uids)) {
        const where = this.located.get(entry.id)!;
        const before = [...flagsOfInfo(where.info), ...entry.keywords];
        const after = applyFlags(before, operation, wanted);
        if (sameSet(before, after)) continue;
        const info = infoOfFlags(after);
        // Any flag change moves the message to cur/: a client has dealt with it (Maildir spec).
        const file = `${entry.id}${INFO_SEPARATOR}${info}`;
        await rename(path.join(this.dir, where.sub, where.file), path.join(this.dir, 'cur', file));
        this.located.set(entry.id, { sub: 'cur', file, info });
        entry.keywords = after.filter((f) => !isFilenameFlag(f));
        entry.modseq = ++list.highestModseq;
        changed.push(this.infoOf(entry)!);
      }
      if (changed.length === 0) return [];
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      await this.save(list);
      for (const m of changed)
        this.context.changes.emit('flags', { ...this.origin, uid: m.uid, flags: m.flags, modseq: m.modseq });
      return changed;
    });
  }

  /**
   * EXPUNGE (RFC 3501 §6.4.3): removes the messages flagged \Deleted, or with `uids` only those of
   * them (UID EXPUNGE, RFC 4315 §2.1). Returns the UIDs removed.
   */
  async expunge(uids?: number[]): Promise<number[]> {
    return this.exclusive(async () => {
      const list = await this.sync();
      const chosen = uids ? this.entriesOf(list, uids) : list.entries;
      const doomed = chosen.filter((e) => this.infoOf(e)?.flags.includes('\\Deleted'));
      return this.remove(list, doomed);
    });
  }

  /** Removes messages whatever their flags (POP3's DELE then QUIT, RFC 1939 §6). */
  async delete(uids: number[]): Promise<number[]> {
    return this.exclusive(async () => {
      const list = await this.sync();
      return this.remove(list, this.entriesOf(list, uids));
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
      const list = await this.sync();
      const info = infoOfFlags(flags);
      const file = `${id}${INFO_SEPARATOR}${info}`;
      await rename(tmp, path.join(this.dir, 'cur', file));
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      const entry = this.addEntry(list, id, options.internalDate ?? new Date(), flags);
      this.located.set(id, { sub: 'cur', file, info });
      await this.save(list);
      this.context.changes.emit('added', { ...this.origin, id, uid: entry.uid });
      return this.infoOf(entry)!;
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
      const list = await this.sync();
      return this.entriesOf(list, uids).map((entry) => ({
        uid: entry.uid,
        file: this.pathOf(entry.id),
        flags: this.infoOf(entry)!.flags,
        internalDate: new Date(entry.internalDate * 1000),
        size: this.infoOf(entry)!.size,
      }));
    });
    return target.linkIn(sources);
  }

  /** MOVE (RFC 6851): COPY, then EXPUNGE of the originals. */
  async moveTo(uids: number[], target: Folder): Promise<Map<number, number>> {
    const mapping = await this.copyTo(uids, target);
    await this.delete([...mapping.keys()]);
    return mapping;
  }

  private async linkIn(
    sources: { uid: number; file: string; flags: string[]; internalDate: Date; size: number }[],
  ): Promise<Map<number, number>> {
    return this.exclusive(async () => {
      const list = await this.sync();
      const mapping = new Map<number, number>();
      for (const source of sources) {
        const id = uniqueName(source.size);
        const info = infoOfFlags(source.flags);
        const file = `${id}${INFO_SEPARATOR}${info}`;
        await link(source.file, path.join(this.dir, 'cur', file));
        const entry = this.addEntry(list, id, source.internalDate, source.flags);
        this.located.set(id, { sub: 'cur', file, info });
        mapping.set(source.uid, entry.uid);
      }
      if (mapping.size === 0) return mapping;
      await this.context.syncs.of(path.join(this.dir, 'cur')).sync();
      await this.save(list);
      for (const entry of list.entries.slice(-mapping.size)) {
        this.context.changes.emit('added', { ...this.origin, id: entry.id, uid: entry.uid });
      }
      return mapping;
    });
  }

  private async remove(list: UidList, doomed: UidEntry[]): Promise<number[]> {
    if (doomed.length === 0) return [];
    const subs = new Set<string>();
    for (const entry of doomed) {
      const where = this.located.get(entry.id)!;
      await unlink(path.join(this.dir, where.sub, where.file)).catch(ignoreMissing);
      subs.add(where.sub);
      this.located.delete(entry.id);
    }
    const gone = new Set(doomed.map((e) => e.uid));
    list.entries = list.entries.filter((e) => !gone.has(e.uid));
    list.highestModseq++;
    await Promise.all([...subs].map((sub) => this.context.syncs.of(path.join(this.dir, sub)).sync()));
    await this.save(list);
    for (const uid of gone) this.context.changes.emit('expunged', { ...this.origin, uid });
    return [...gone];
  }

  /**
   * Brings the UID list in line with the files: files that appeared (delivered to new/, or dropped
   * in by another tool) get the next UIDs; entries whose file is gone are dropped. Under the lock.
   * Only new/ and cur/ are read: a file still in tmp/ (a delivery in progress, or one cut short by
   * a crash) is never a message.
   */
  private async sync(): Promise<UidList> {
    const file = path.join(this.dir, UIDLIST_FILE);
    let list = await readUidList(file);
    let changed = false;
    if (!list) {
      list = emptyUidList(await this.context.newUidValidity());
      changed = true;
    }
    this.located = await this.scan();
    const known = new Set<string>();
    const kept = list.entries.filter((e) => this.located.has(e.id) && !known.has(e.id) && known.add(e.id));
    if (kept.length !== list.entries.length) {
      list.entries = kept;
      list.highestModseq++;
      changed = true;
    }
    const fresh = [...this.located.keys()].filter((id) => !known.has(id)).sort(compareNames);
    for (const id of fresh) {
      const info = await stat(this.pathOf(id)).catch(() => null);
      if (!info) continue;
      this.addEntry(list, id, info.mtime, []);
      changed = true;
    }
    if (changed) await this.save(list);
    this.list = list;
    return list;
  }

  private async scan(): Promise<Map<string, Located>> {
    const located = new Map<string, Located>();
    for (const sub of ['new', 'cur'] as const) {
      for (const file of await readdir(path.join(this.dir, sub))) {
        if (file.startsWith('.')) continue;
        const at = file.indexOf(INFO_SEPARATOR);
        const id = at === -1 ? file : file.slice(0, at);
        located.set(id, { sub, file, info: at === -1 ? '' : file.slice(at + INFO_SEPARATOR.length) });
      }
    }
    return located;
  }

  private addEntry(list: UidList, id: string, date: Date, flags: string[]): UidEntry {
    const entry: UidEntry = {
      uid: list.uidNext++,
      modseq: ++list.highestModseq,
      internalDate: Math.floor(date.getTime() / 1000),
      id,
      keywords: flags.filter((f) => !isFilenameFlag(f)),
    };
    list.entries.push(entry);
    return entry;
  }

  /** Writes the list and makes the rename durable before any new UID is told to anyone. */
  private async save(list: UidList): Promise<void> {
    await writeUidList(path.join(this.dir, UIDLIST_FILE), list);
    await this.context.syncs.of(this.dir).sync();
  }

  private infoOf(entry: UidEntry): MessageInfo | undefined {
    const where = this.located.get(entry.id);
    if (!where) return undefined;
    return {
      uid: entry.uid,
      id: entry.id,
      flags: [...flagsOfInfo(where.info), ...entry.keywords],
      size: sizeOfName(entry.id) ?? 0,
      internalDate: new Date(entry.internalDate * 1000),
      modseq: entry.modseq,
      recent: where.sub === 'new',
    };
  }

  private entriesOf(list: UidList, uids: number[]): UidEntry[] {
    const wanted = new Set(uids);
    return list.entries.filter((e) => wanted.has(e.uid));
  }

  private pathOf(id: string): string {
    const where = this.located.get(id)!;
    return path.join(this.dir, where.sub, where.file);
  }

  /**
   * Runs `fn` with the path of a message's file. Another process may have renamed it (a flag
   * change) since our last look: on ENOENT, look again once.
   */
  private async withFile<T>(uid: number, fn: (file: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const list = attempt === 0 && this.list ? this.list : await this.exclusive(() => this.sync());
      const entry = list.entries.find((e) => e.uid === uid);
      if (!entry || !this.located.has(entry.id)) {
        if (attempt === 0) continue;
        throw new Error(`no message with UID ${uid} in ${this.context.user}/${this.name}`);
      }
      try {
        return await fn(this.pathOf(entry.id));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      }
    }
  }

  /** One change at a time in this process; the dot-lock keeps other processes out meanwhile. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => withFileLock(path.join(this.dir, `${UIDLIST_FILE}.lock`), fn));
    this.queue = run.catch(() => undefined);
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
