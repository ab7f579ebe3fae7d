import { type Mailbox, type MailStore, MailStoreError } from '@portlab/mailstore';
import type { FolderEntry, MailStorage, StoredFolder, UserMailbox } from './storage.js';

/**
 * The lab's Maildir store seen as IMAP storage. Its folders are StoredFolders as they are (the
 * compiler checks it where folder() returns one), no wrapper forwarding their calls; a user's mailbox differs in one thing only: IMAP asks
 * for a folder that may not exist, and gets null where the store throws.
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
      return await this.mailbox.folder(name);
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
