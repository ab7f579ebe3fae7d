import { type Folder, type Mailbox, type MailStore, MailStoreError } from '@portlab/mailstore';
import type { FolderEntry, MailStorage, StoredFolder, UserMailbox } from './storage.js';

/**
 * The lab's Maildir store seen as IMAP storage: folders, messages, flags, subscriptions and the
 * change feed, each a call to @portlab/mailstore.
 */
export function mailStorage(store: MailStore): MailStorage {
  return {
    changes: store.changes,
    mailbox: async (user) => new MaildirMailbox(await store.mailbox(user)),
  };
}

class MaildirMailbox implements UserMailbox {
  constructor(private readonly mailbox: Mailbox) {}

  listFolders(): Promise<FolderEntry[]> {
    return this.mailbox.listFolders();
  }

  async folder(name: string): Promise<StoredFolder | null> {
    try {
      return new MaildirFolder(await this.mailbox.folder(name));
    } catch (err) {
      // No such folder, or a name that cannot be one: either way there is no mailbox of that name.
      if (err instanceof MailStoreError && err.code !== 'EXISTS') return null;
      throw err;
    }
  }

  createFolder(name: string): Promise<void> {
    return this.mailbox.createFolder(name);
  }

  deleteFolder(name: string): Promise<void> {
    return this.mailbox.deleteFolder(name);
  }

  renameFolder(from: string, to: string): Promise<void> {
    return this.mailbox.renameFolder(from, to);
  }

  subscriptions(): Promise<string[]> {
    return this.mailbox.subscriptions();
  }

  setSubscribed(name: string, subscribed: boolean): Promise<void> {
    return this.mailbox.setSubscribed(name, subscribed);
  }
}

/** A Maildir folder; COPY and MOVE hand the store its own folder object back. */
class MaildirFolder implements StoredFolder {
  constructor(readonly folder: Folder) {}

  get name(): string {
    return this.folder.name;
  }

  snapshot = () => this.folder.snapshot();
  status = () => this.folder.status();
  claimRecent = () => this.folder.claimRecent();
  messages = () => this.folder.messages();
  read = (uid: number, into?: Buffer) => this.folder.read(uid, into);
  readStart = (uid: number, length: number) => this.folder.readStart(uid, length);
  stream = (uid: number) => this.folder.stream(uid);
  setFlags: StoredFolder['setFlags'] = (uids, operation, flags) =>
    this.folder.setFlags(uids, operation, flags);
  expunge = (uids?: number[]) => this.folder.expunge(uids);
  append: StoredFolder['append'] = (message, options) => this.folder.append(message, options);
  copyTo = (uids: number[], target: StoredFolder) =>
    this.folder.copyTo(uids, (target as MaildirFolder).folder);
  moveTo = (uids: number[], target: StoredFolder) =>
    this.folder.moveTo(uids, (target as MaildirFolder).folder);
}
