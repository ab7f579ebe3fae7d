import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Folder, Mailbox, MailStore } from '@portlab/mailstore';
import type { FolderEntry, MailStorage, StoredFolder, UserMailbox } from './storage.js';

/**
 * The lab's Maildir store seen as IMAP storage. The store has folders, messages, flags and the
 * change feed; subscriptions (RFC 3501 §6.3.6) it lacks are kept here, in a `subscriptions` file
 * beside the Maildir, one name a line, as Dovecot keeps them.
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
    const wanted = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
    const exists = (await this.mailbox.listFolders()).some((f) => f.name === wanted);
    return exists ? new MaildirFolder(await this.mailbox.folder(wanted)) : null;
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

  async subscriptions(): Promise<string[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line !== '');
  }

  async setSubscribed(name: string, subscribed: boolean): Promise<void> {
    const names = new Set(await this.subscriptions());
    if (subscribed) names.add(name);
    else names.delete(name);
    await mkdir(this.mailbox.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, [...names].map((n) => `${n}\n`).join(''));
    await rename(tmp, this.file);
  }

  private get file(): string {
    return path.join(this.mailbox.dir, 'subscriptions');
  }
}

/** A Maildir folder; COPY and MOVE hand the store its own folder object back. */
class MaildirFolder implements StoredFolder {
  constructor(readonly folder: Folder) {}

  get name(): string {
    return this.folder.name;
  }

  status = () => this.folder.status();
  messages = () => this.folder.messages();
  read = (uid: number) => this.folder.read(uid);
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
