import path from 'node:path';
import { USER_NAME } from '@portlab/config';
import { MailChanges } from './changes.js';
import { DirectorySyncs } from './durable.js';
import { MailStoreError } from './errors.js';
import { Mailbox } from './mailbox.js';

export interface Delivered {
  /** The Maildir unique name. */
  id: string;
  /** Where the message now is: `<root>/<user>/new/<id>` for INBOX. */
  file: string;
}

/**
 * The mail store: one Maildir++ per user under `root` ($DATA/mail), and the change feed.
 * Keep one MailStore per process: the folder locks, the group commit of directory fsyncs and the
 * change feed are shared through it.
 */
export class MailStore {
  readonly changes = new MailChanges();
  private readonly syncs = new DirectorySyncs();
  private readonly mailboxes = new Map<string, Mailbox>();

  /** Bytes each mailbox may hold (config mail.quotaBytes); none given: no quota. */
  readonly quotaBytes: number;

  constructor(
    readonly root: string,
    options: { quotaBytes?: number } = {},
  ) {
    this.quotaBytes = options.quotaBytes ?? Number.POSITIVE_INFINITY;
  }

  /** A user's mailbox, made with its default folders on first use. */
  async mailbox(user: string): Promise<Mailbox> {
    if (!USER_NAME.test(user)) throw new MailStoreError('INVALID_NAME', `invalid user name '${user}'`);
    let mailbox = this.mailboxes.get(user);
    if (!mailbox) {
      mailbox = new Mailbox(user, path.join(this.root, user), this.syncs, this.changes, this.quotaBytes);
      this.mailboxes.set(user, mailbox);
    }
    await mailbox.ensure();
    return mailbox;
  }

  /** True if the user's mailbox is at or over its quota: SMTP refuses its recipients (452 4.2.2). */
  async full(user: string): Promise<boolean> {
    return (await this.mailbox(user)).usage.full();
  }

  /** full() without waiting, if the answer is known now (usage.ts, fullNow); else undefined. */
  fullNow(user: string): boolean | undefined {
    if (this.quotaBytes === Number.POSITIVE_INFINITY) return false;
    return this.mailboxes.get(user)?.usage.fullNow();
  }

  /**
   * Holds room for a message of `bytes` in each of these mailboxes, for the deliveries about to be
   * made, or throws OVER_QUOTA (naming the first that is too full) and holds nothing: a message is
   * taken for all its recipients or for none. Call the returned release once they are delivered
   * (or failed); the bytes delivered are counted by then. `what` names them in the refusal
   * ("the message needs", by default).
   */
  async hold(users: readonly string[], bytes: number, what?: string): Promise<() => void> {
    const usages = await Promise.all(users.map(async (user) => (await this.mailbox(user)).usage));
    await Promise.all(usages.map((usage) => usage.fresh()));
    // No await from here: the checks and the holds see the same totals.
    const refused = usages.map((usage) => usage.refusal(bytes, what)).find(Boolean);
    if (refused) throw refused;
    const releases = usages.map((usage) => usage.holdNow(bytes));
    return () => {
      for (const release of releases) release();
    };
  }

  /**
   * Delivers a message the Maildir way, so a crash at any point loses nothing acknowledged and
   * shows nothing half-written (https://cr.yp.to/proto/maildir.html): Folder.deliver, beside
   * APPEND in the folder (save.ts):
   *   1. write it to tmp/ under a unique name and fsync the file;
   *   2. rename it into new/ (atomic: the message appears whole or not at all);
   *   3. fsync new/, so the rename itself survives a crash.
   * Only when this resolves may SMTP answer 250. Readers never look in tmp/.
   */
  async deliver(user: string, message: Buffer, folder = 'INBOX'): Promise<Delivered> {
    return (await (await this.mailbox(user)).folder(folder)).deliver(message);
  }
}
