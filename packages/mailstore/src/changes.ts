import { EventEmitter } from 'node:events';

/**
 * The change feed: what this process did to the store, as it happens, so that an IMAP session in
 * IDLE (RFC 2177) can tell its client `* 5 EXISTS` or `* 3 FETCH (FLAGS ...)` without polling.
 * Changes made by other processes show up at the next `Folder.list()`.
 */
export interface MessageAdded {
  user: string;
  folder: string;
  /** The Maildir unique name. */
  id: string;
  /** Known when the message was appended with a UID; a delivered message gets its UID at the next list(). */
  uid?: number;
}

export interface FlagsChanged {
  user: string;
  folder: string;
  uid: number;
  flags: string[];
  modseq: number;
}

export interface MessageExpunged {
  user: string;
  folder: string;
  uid: number;
}

export type MailChangeEvents = {
  added: [MessageAdded];
  flags: [FlagsChanged];
  expunged: [MessageExpunged];
};

export class MailChanges extends EventEmitter<MailChangeEvents> {
  constructor() {
    super();
    // Every IMAP session in IDLE listens: hundreds of listeners are normal, not a leak.
    this.setMaxListeners(0);
  }
}
