import type {
  AppendInput,
  FlagsChanged,
  FolderInfo,
  FolderSnapshot,
  FolderStatus,
  MessageAdded,
  MessageExpunged,
  MessageInfo,
} from '@portlab/mailstore';

/**
 * What the IMAP server needs from a mail store. The parser and the commands see only this; the
 * lab's Maildir store (@portlab/mailstore) is one: its Folder is a StoredFolder as it is, and
 * mailstore-adapter.ts only turns a missing folder into null.
 */
export interface MailStorage {
  /** A user's mailbox (all their folders). */
  mailbox(user: string): Promise<UserMailbox>;
  /** What changed in the store, as it happens: how every selected session learns of news. */
  readonly changes: ChangeFeed;
}

export interface ChangeFeed {
  on(event: 'added', listener: (change: MessageAdded) => void): unknown;
  on(event: 'flags', listener: (change: FlagChange) => void): unknown;
  on(event: 'expunged', listener: (change: MessageExpunged) => void): unknown;
  off(event: 'added' | 'flags' | 'expunged', listener: (...args: never[]) => void): unknown;
}

// The store's own records, under the names the IMAP code uses (@portlab/mailstore defines them once).
/** One message to append: its bytes, flags and date (RFC 3501 §6.3.11). */
export type NewMessage = AppendInput;
export type FlagChange = FlagsChanged;
/** A folder's name as IMAP shows it (modified UTF-7, '.' between levels) and its RFC 6154 use. */
export type FolderEntry = FolderInfo;
/** A message: UID, unique id (a cache key: its bytes never change), flags, size, date, modseq. */
export type StoredMessage = MessageInfo;
/** UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the first \Recent UID and the counts. */
export type FolderState = FolderStatus;
/** Status and messages from one look, shared by every session: never modified. */
export type { FolderSnapshot };

export interface UserMailbox {
  listFolders(): Promise<FolderEntry[]>;
  /** The folder, or null if there is none of that name. */
  folder(name: string): Promise<StoredFolder | null>;
  createFolder(name: string): Promise<void>;
  deleteFolder(name: string): Promise<void>;
  renameFolder(from: string, to: string): Promise<void>;
  /** LSUB / LIST (SUBSCRIBED): RFC 3501 §6.3.6. */
  subscriptions(): Promise<string[]>;
  setSubscribed(name: string, subscribed: boolean): Promise<void>;
}

export interface StoredFolder {
  readonly name: string;
  /**
   * A change in this process holds the folder's lock or waits for it: a look at the store that
   * needs the lock would wait behind it (NOOP then answers from what it knows, MailboxView.sync).
   */
  readonly busy: boolean;
  /**
   * Status and messages from one look; the same object until the folder changes. Changes by
   * other processes show here at the latest at the next call.
   */
  snapshot(): Promise<FolderSnapshot>;
  status(): Promise<FolderState>;
  /**
   * A snapshot, and the UIDs of its \Recent messages, taken for the caller in the same step: no
   * other session (or process) gets them after this (RFC 3501 §2.3.2; see recent.ts).
   */
  claimRecent(): Promise<{ snapshot: FolderSnapshot; claimed: number[] }>;
  /** Every message, in UID order. */
  messages(): Promise<StoredMessage[]>;
  /** The bytes; read into `into` (and a view of it) when it is large enough. */
  read(uid: number, into?: Buffer): Promise<Buffer>;
  /**
   * The bytes of a message of at most `maxSize` bytes, read without waiting (a small file read on
   * the event loop's thread: no trip to the thread pool); undefined if it is larger, or if the
   * store must look at the disk first (read() then does). Read into `into` when it is large
   * enough (size + 1 bytes), as read() does.
   */
  readNow(uid: number, maxSize: number, into?: Buffer): Buffer | undefined;
  /** The first `length` bytes of a message, or all of it if shorter: enough for its header. */
  readStart(uid: number, length: number): Promise<Buffer>;
  /** Returns the messages whose flags changed, as they are now. */
  setFlags(
    uids: number[],
    operation: 'add' | 'remove' | 'replace',
    flags: string[],
  ): Promise<StoredMessage[]>;
  /** Removes the \Deleted messages (of `uids` only, if given); returns the UIDs removed. */
  expunge(uids?: number[]): Promise<number[]>;
  append(message: Buffer, options: { flags?: string[]; internalDate?: Date }): Promise<StoredMessage>;
  /**
   * MULTIAPPEND (RFC 3502): stores every message or none, in one step (no session ever sees part of
   * them), with consecutive UIDs in the order given. Calls to append/appendAll on one folder get
   * their UIDs in the order they were made, even when they run at once.
   */
  appendAll(messages: readonly NewMessage[]): Promise<StoredMessage[]>;
  /**
   * Source UID -> UID in the target. All or nothing (RFC 9051 §6.4.7): copies that would pass the
   * quota are refused, none made, with an error whose code is OVER_QUOTA.
   */
  copyTo(uids: number[], target: StoredFolder): Promise<Map<number, number>>;
  /** COPY then EXPUNGE of the originals; within one account never refused for the quota. */
  moveTo(uids: number[], target: StoredFolder): Promise<Map<number, number>>;
}
