import { statSync } from 'node:fs';
import path from 'node:path';
import { flagsOfInfo } from './flags.js';
import { type Applied, type FolderIndex, type Located, locate } from './folder-index.js';
import { sizeOfName } from './names.js';
import type { UidEntry } from './uidlist.js';

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

/**
 * The message-info cache (the role of Dovecot's maildir-mail): one MessageInfo per message, made
 * from its uidlist entry and its file name, rebuilt only when one of them changes; and the
 * snapshot made of them. A change that only added messages after the last UID (APPEND, COPY into
 * the folder, a delivery seen) extends the last snapshot instead of walking every message again:
 * appending to a folder of 10,000 then costs the new messages, not 10,000 (issue #20).
 */
export class MessageInfos {
  private readonly infos = new Map<
    string,
    { entry: UidEntry; sub: string; file: string; info: MessageInfo }
  >();
  /** Sizes of messages whose file names do not carry `,S=` (see sizeOnDisk), by unique name. */
  private readonly foreignSizes = new Map<string, number>();
  private last: FolderSnapshot | null = null;
  /** Entries added after the last UID since `last` was built: the next snapshot extends it. */
  private added: UidEntry[] = [];

  constructor(private readonly dir: string) {}

  /** The index changed (what applyToIndex said, and the messages it removed). */
  changed(applied: Applied, added: readonly UidEntry[] = [], gone: readonly string[] = []): void {
    for (const id of gone) this.infos.delete(id);
    if (applied === 'none') return;
    if (applied === 'appended' && this.last) this.added.push(...added);
    else this.forgetSnapshot();
  }

  /** Files came or went, or the list was read again: the next snapshot is built whole. */
  forgetSnapshot(): void {
    this.last = null;
    this.added = [];
  }

  snapshot(index: FolderIndex): FolderSnapshot {
    if (this.last && this.added.length === 0) return this.last;
    const base = this.last;
    const entries = base ? this.added : index.list.entries;
    const messages: MessageInfo[] = base ? base.messages.slice() : [];
    let unseen = base ? base.status.unseen : 0;
    let recent = base ? base.status.recent : 0;
    for (const entry of entries) {
      const info = this.infoOf(index, entry);
      if (!info) continue;
      messages.push(info);
      if (!info.flags.includes('\\Seen')) unseen++;
      if (info.uid >= index.list.firstRecentUid) recent++;
    }
    const { uidValidity, uidNext, highestModseq, firstRecentUid } = index.list;
    this.added = [];
    this.last = {
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
    return this.last;
  }

  /** The message of an entry as it is now, or undefined if its file is in neither directory. */
  infoOf(index: FolderIndex, entry: UidEntry): MessageInfo | undefined {
    const where = locate(index, entry.id);
    if (!where) return undefined;
    const cached = this.infos.get(entry.id);
    if (cached?.entry === entry && cached.sub === where.sub && cached.file === where.file) return cached.info;
    const info: MessageInfo = {
      uid: entry.uid,
      id: entry.id,
      flags: [...flagsOfInfo(where.info), ...entry.keywords],
      size: sizeOfName(entry.id) ?? this.sizeOnDisk(entry.id, where),
      internalDate: new Date(entry.internalDate * 1000),
      modseq: entry.modseq,
    };
    this.infos.set(entry.id, { entry, sub: where.sub, file: where.file, info });
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
}
