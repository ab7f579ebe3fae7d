import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MailChanges } from './changes.js';
import type { DirectorySyncs } from './durable.js';
import { MailStoreError } from './errors.js';
import { INFO_SEPARATOR } from './flags.js';
import { Folder } from './folder.js';
import { withFileLock } from './lock.js';
import { sizeOfName } from './names.js';
import { MailboxUsage } from './usage.js';

/** Maildir++ folder names use '.' between levels (`.Work.Projects/`): it is also the IMAP hierarchy delimiter. */
export const DELIMITER = '.';

/** RFC 6154 special-use attributes of the default folders, as Thunderbird expects them. */
export const DEFAULT_FOLDERS: readonly FolderInfo[] = [
  { name: 'INBOX' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
];

export interface FolderInfo {
  name: string;
  specialUse?: string;
}

/** Maildir spec: a file left in tmp/ for 36 hours is a delivery that will never finish. */
const TMP_MAX_AGE_MS = 36 * 3600_000;

/**
 * One user's Maildir++ (`$DATA/mail/<user>/`): INBOX is the top directory itself, every other folder
 * a `.Name/` directory beside cur/ new/ tmp/ holding its own cur/ new/ tmp/ and a `maildirfolder`
 * marker file (http://www.inter7.com/courierimap/README.maildirquota.html).
 */
export class Mailbox {
  private readonly folders = new Map<string, Folder>();
  private ready: Promise<void> | null = null;
  /** Bytes of its message files against its quota (usage.ts). */
  readonly usage: MailboxUsage;

  constructor(
    readonly user: string,
    readonly dir: string,
    private readonly syncs: DirectorySyncs,
    private readonly changes: MailChanges,
    quotaBytes = Number.POSITIVE_INFINITY,
  ) {
    this.usage = new MailboxUsage(user, quotaBytes, () => this.countBytes());
  }

  /** Makes INBOX and the default folders if missing, and clears deliveries abandoned in tmp/. Once. */
  ensure(): Promise<void> {
    this.ready ??= (async () => {
      for (const { name } of DEFAULT_FOLDERS) await this.makeFolderDirs(name);
      await this.cleanTmp();
    })();
    return this.ready;
  }

  async listFolders(): Promise<FolderInfo[]> {
    await this.ensure();
    return (await this.folderNames()).map((name) => ({ name, ...specialUseOf(name) }));
  }

  /** The folder of that name; fails with a clear message if there is none. */
  async folder(name: string): Promise<Folder> {
    await this.ensure();
    const canonical = canonicalName(name);
    let folder = this.folders.get(canonical);
    if (!folder) {
      const dir = this.dirOf(canonical);
      const exists = await stat(path.join(dir, 'cur')).then(
        () => true,
        () => false,
      );
      if (!exists)
        throw new MailStoreError('NOT_FOUND', `no folder '${name}' in the mailbox of ${this.user}`);
      // Another call may have made it while this one looked: one Folder per folder, one save queue.
      const made = this.folders.get(canonical);
      if (made) return made;
      folder = new Folder(canonical, dir, {
        user: this.user,
        syncs: this.syncs,
        changes: this.changes,
        usage: this.usage,
        newUidValidity: () => this.newUidValidity(),
      });
      this.folders.set(canonical, folder);
    }
    return folder;
  }

  /** The directory of a folder (INBOX is the Maildir's top). */
  private dirOf(name: string): string {
    const canonical = canonicalName(name);
    if (canonical === 'INBOX') return this.dir;
    checkFolderName(canonical);
    return path.join(this.dir, `.${canonical}`);
  }

  async createFolder(name: string): Promise<void> {
    await this.ensure();
    checkFolderName(name);
    if (await this.exists(name)) throw new MailStoreError('EXISTS', `folder '${name}' already exists`);
    await this.makeFolderDirs(name);
  }

  /** Deletes a folder and its messages. INBOX and folders with subfolders cannot be deleted. */
  async deleteFolder(name: string): Promise<void> {
    await this.ensure();
    checkFolderName(name);
    if (!(await this.exists(name))) throw new MailStoreError('NOT_FOUND', `no folder '${name}' to delete`);
    const children = (await this.listFolders()).filter((f) => f.name.startsWith(`${name}${DELIMITER}`));
    if (children.length)
      throw new Error(`folder '${name}' has subfolders: delete ${children[0]!.name} first`);
    this.folders.delete(name);
    await rm(this.dirOf(name), { recursive: true, force: true });
    // Its messages no longer count: the next check walks the Maildir again.
    this.usage.stale();
  }

  /** Renames a folder and its subfolders; the UID lists go with them, so UIDVALIDITY is kept. */
  async renameFolder(from: string, to: string): Promise<void> {
    await this.ensure();
    checkFolderName(from);
    checkFolderName(to);
    if (!(await this.exists(from))) throw new MailStoreError('NOT_FOUND', `no folder '${from}' to rename`);
    if (await this.exists(to)) throw new MailStoreError('EXISTS', `folder '${to}' already exists`);
    const moving = (await this.listFolders()).filter(
      (f) => f.name === from || f.name.startsWith(`${from}${DELIMITER}`),
    );
    for (const { name } of moving) {
      this.folders.delete(name);
      await rename(this.dirOf(name), this.dirOf(to + name.slice(from.length)));
    }
  }

  /** INBOX, then every `.Name/` directory, sorted. */
  private async folderNames(): Promise<string[]> {
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name.startsWith('.') && e.name.length > 1)
      .map((e) => e.name.slice(1))
      .sort();
    return ['INBOX', ...names];
  }

  private async exists(name: string): Promise<boolean> {
    return stat(path.join(this.dirOf(name), 'cur')).then(
      () => true,
      () => false,
    );
  }

  private async makeFolderDirs(name: string): Promise<void> {
    const dir = this.dirOf(name);
    for (const sub of ['cur', 'new', 'tmp'])
      await mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
    if (dir !== this.dir) await writeFile(path.join(dir, 'maildirfolder'), '');
    // New directories are entries of their parents: flush those too (see durable.ts), so that a first
    // delivery's 250 never rests on a folder a power cut could take back.
    await this.syncs.of(dir).sync();
    await this.syncs.of(path.dirname(dir)).sync();
    if (dir !== this.dir) await this.syncs.of(path.dirname(this.dir)).sync();
  }

  /**
   * The bytes of every message file of every folder (new/ and cur/), for the quota (usage.ts): the
   * size in the name (`,S=`, names.ts) when there is one, else an lstat. A file gone meanwhile
   * counts 0.
   */
  private async countBytes(): Promise<number> {
    let total = 0;
    for (const name of await this.folderNames()) {
      for (const sub of ['new', 'cur']) {
        const dir = path.join(this.dirOf(name), sub);
        for (const file of await readdir(dir).catch(() => [])) {
          const id = file.split(INFO_SEPARATOR)[0]!;
          total += sizeOfName(id) ?? (await lstat(path.join(dir, file)).catch(() => null))?.size ?? 0;
        }
      }
    }
    return total;
  }

  private async cleanTmp(): Promise<void> {
    const now = Date.now();
    for (const name of await this.folderNames()) {
      const tmp = path.join(this.dirOf(name), 'tmp');
      for (const file of await readdir(tmp).catch(() => [])) {
        const info = await stat(path.join(tmp, file)).catch(() => null);
        if (info && now - info.mtimeMs > TMP_MAX_AGE_MS) await rm(path.join(tmp, file), { force: true });
      }
    }
  }

  /**
   * The folders the user subscribed to (IMAP SUBSCRIBE, LSUB: RFC 3501 §6.3.6), kept in
   * `subscriptions` beside the Maildir, one name a line, as Dovecot keeps them. A name may be
   * subscribed whether or not a folder of that name exists (§6.3.6 allows it). Until the user
   * subscribes or unsubscribes anything, the default folders are subscribed, as Dovecot's
   * `auto = subscribe` does: Thunderbird lists only subscribed folders (LIST (SUBSCRIBED)), and
   * would otherwise show Inbox alone, then Sent after a first mail.
   */
  async subscriptions(): Promise<string[]> {
    const text = await readFile(this.subscriptionsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (text === null) return DEFAULT_FOLDERS.map((f) => f.name);
    return text.split('\n').filter((line) => line !== '');
  }

  /** Adds or removes a subscription: under a lock (two clients at once lose nothing), replaced atomically. */
  async setSubscribed(name: string, subscribed: boolean): Promise<void> {
    const file = this.subscriptionsFile;
    await withFileLock(`${file}.lock`, async () => {
      const names = new Set(await this.subscriptions());
      if (subscribed === names.has(name)) return;
      if (subscribed) names.add(name);
      else names.delete(name);
      await writeFile(`${file}.tmp`, [...names].map((n) => `${n}\n`).join(''));
      await rename(`${file}.tmp`, file);
    });
  }

  private get subscriptionsFile(): string {
    return path.join(this.dir, 'subscriptions');
  }

  /**
   * UIDVALIDITY must differ from any value a folder of the same name had before (RFC 3501 §2.3.1.1),
   * so a folder deleted and made again in the same second still gets a new one: the last value
   * given is kept in `portlab-uidvalidity` and the next is max(now, last + 1).
   */
  private async newUidValidity(): Promise<number> {
    const file = path.join(this.dir, 'portlab-uidvalidity');
    return withFileLock(`${file}.lock`, async () => {
      const last = Number.parseInt(await readFile(file, 'utf8').catch(() => '0'), 10) || 0;
      const next = Math.max(Math.floor(Date.now() / 1000), last + 1);
      await writeFile(`${file}.tmp`, `${next}\n`);
      await rename(`${file}.tmp`, file);
      return next;
    });
  }
}

function specialUseOf(name: string): { specialUse?: string } {
  const known = DEFAULT_FOLDERS.find((f) => f.name === name);
  return known?.specialUse ? { specialUse: known.specialUse } : {};
}

/** INBOX is case-insensitive (RFC 3501 §5.1); every other name is kept as given. */
function canonicalName(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** A folder name becomes a directory name: keep it to what cannot escape the Maildir or clash. */
function checkFolderName(name: string): void {
  if (canonicalName(name) === 'INBOX')
    throw new MailStoreError('INVALID_NAME', 'INBOX cannot be created, deleted or renamed');
  const bad =
    name.length === 0 ||
    name.length > 200 ||
    name.startsWith(DELIMITER) ||
    name.endsWith(DELIMITER) ||
    name.includes(`${DELIMITER}${DELIMITER}`) ||
    /[/\\\x00-\x1f\x7f]/.test(name);
  if (bad) {
    throw new MailStoreError(
      'INVALID_NAME',
      `invalid folder name '${name}': use letters, digits and spaces, with '${DELIMITER}' between levels (Work${DELIMITER}Projects); no '/'`,
    );
  }
}
