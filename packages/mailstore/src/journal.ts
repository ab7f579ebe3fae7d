import type { DirectorySync } from './durable.js';
import type { FolderIndex } from './folder-index.js';
import { type Stamp, stampOf } from './stamp.js';
import {
  appendUidList,
  applyChange,
  readUidList,
  type StoredUidList,
  type UidListChange,
  writeUidList,
} from './uidlist.js';

/** Appended lines beyond this (plus twice the messages) and the uidlist is rewritten whole. */
const COMPACT_AFTER_LINES = 1000;

/**
 * The folder's uidlist as this process writes it: the role of Dovecot's maildir-uidlist, and of
 * xv6's log.c beside fs.c. The file format is uidlist.ts; this is the discipline around it. A
 * change is on disk before anyone is told of it: appended and flushed (one line per message
 * changed), or, when the appended lines grew too many, the whole list replaced atomically and its
 * directory fsynced. The caller holds the folder lock.
 */
export class UidJournal {
  /** The file as we last read or wrote it: another process changed it if its stamp differs. */
  stamp: Stamp | null = null;

  constructor(
    readonly file: string,
    /** The fsync of the folder's directory, after the list was replaced (a rename). */
    private readonly dirSync: DirectorySync,
  ) {}

  /** The file's stamp now (inode and size: it changes only by append or atomic replace, under the lock). */
  now(): Promise<Stamp | null> {
    return stampOf(this.file, { racy: false });
  }

  /** Reads the list, or null if the folder has none yet. */
  read(): Promise<StoredUidList | null> {
    return readUidList(this.file);
  }

  /** Writes a change before anyone is told of it; `whole` replaces the file (a new list, or a torn one). */
  async record(index: FolderIndex, change: UidListChange, whole = false): Promise<void> {
    const { list } = index;
    if (whole || index.rewrite || index.lines > COMPACT_AFTER_LINES + 2 * list.entries.length) {
      const next = applyChange(list, change);
      await writeUidList(this.file, next);
      await this.dirSync.sync();
      index.lines = 5 + next.entries.length;
      index.rewrite = false;
    } else {
      try {
        index.lines += await appendUidList(this.file, change);
      } catch (err) {
        // Part of the line may be in the file (a full disk): the next write rewrites it whole.
        index.rewrite = true;
        this.stamp = null;
        throw err;
      }
    }
    // Under the lock nobody else writes the list: this stamp is our own write.
    this.stamp = await this.now();
  }
}
