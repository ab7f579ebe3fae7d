import { formatBytes } from '@portlab/config';
import { MailStoreError } from './errors.js';

/**
 * A mailbox's storage quota (config mail.quotaBytes): the bytes of every message file in every
 * folder (new/ and cur/; tmp/ holds deliveries not yet made), each file counted at its size, as
 * Maildir++ quotas count them (http://www.inter7.com/courierimap/README.maildirquota.html): a
 * COPY, a hard link here, counts again in its new folder, as it would on a store that copies. A
 * MOVE within the mailbox changes nothing: the bytes change folder (Folder.moveTo).
 *
 * Walking the Maildir at each delivery would cost the SMTP hot path a readdir of every folder
 * (thousands of names for a full INBOX), so the total is kept in memory: counted by one walk on
 * first use (the names' `,S=<size>` give the sizes without a stat), then moved by this process's
 * own changes (delivery, APPEND, COPY, EXPUNGE, POP3 DELE). A change made by another process
 * (a file removed by hand, the web app) is seen at the next count: the total is counted again when
 * it is older than RECOUNT_MS, or after a folder is deleted.
 *
 * Room is held (hold()) while a message is written, so that writes running at once (deliveries,
 * APPENDs, COPYs, from any session) cannot pass the quota together: each sees the bytes of the
 * others in flight.
 */
export class MailboxUsage {
  /** Bytes of the message files, as last counted, moved by this process's changes since. */
  private used = 0;
  /** Bytes held for writes under way. */
  private held = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  private counting: Promise<void> | null = null;

  constructor(
    readonly user: string,
    /** Bytes the mailbox may hold; Infinity: no quota (no walk either). */
    readonly limit: number,
    /** Walks the Maildir: the bytes of its message files. */
    private readonly count: () => Promise<number>,
  ) {}

  /** Bytes in use, with those held for writes under way. */
  async bytes(): Promise<number> {
    await this.fresh();
    return this.used + this.held;
  }

  /** True if the mailbox is at or over its quota: nothing more can be put in it (SMTP RCPT's 452). */
  async full(): Promise<boolean> {
    if (this.limit === Number.POSITIVE_INFINITY) return false;
    return (await this.bytes()) >= this.limit;
  }

  /**
   * full() without waiting, when the answer is known now (the total counted lately), else
   * undefined: SMTP answers RCPT in the same turn, as it did before the quota, when it can.
   */
  fullNow(): boolean | undefined {
    if (this.limit === Number.POSITIVE_INFINITY) return false;
    if (performance.now() - this.countedAt >= RECOUNT_MS) return undefined;
    return this.used + this.held >= this.limit;
  }

  /** The total is counted again when next asked (a folder was deleted, say). */
  stale(): void {
    this.countedAt = Number.NEGATIVE_INFINITY;
  }

  /** This process put (bytes > 0) or removed (bytes < 0) message files. */
  changed(bytes: number): void {
    this.used += bytes;
  }

  /**
   * Holds room for `bytes` about to be written, or throws OVER_QUOTA if they would pass the quota.
   * The caller calls the returned release once the files are in place (counted by changed()) or
   * failed. See MailStore.hold for several mailboxes at once. `what` names them in the refusal.
   */
  async hold(bytes: number, what?: string): Promise<() => void> {
    if (this.limit === Number.POSITIVE_INFINITY) return () => undefined;
    await this.fresh();
    return this.holdNow(bytes, what);
  }

  /** Counts the Maildir if the total is old (or never counted); resolves when it is fresh. */
  async fresh(): Promise<void> {
    if (this.limit === Number.POSITIVE_INFINITY) return;
    if (performance.now() - this.countedAt < RECOUNT_MS) return;
    this.counting ??= this.count()
      .then((bytes) => {
        // Changes made during the walk may or may not be in it: the error is a message or two,
        // set right at the next count.
        this.used = bytes;
        this.countedAt = performance.now();
      })
      .finally(() => {
        this.counting = null;
      });
    await this.counting;
  }

  /**
   * The error hold() throws, or undefined if `bytes` fit now. Call after fresh(). `what` says what
   * the bytes are for: "the message needs" (a delivery, an APPEND), "the copies need" (a COPY).
   */
  refusal(bytes: number, what = 'the message needs'): MailStoreError | undefined {
    const used = this.used + this.held;
    if (used + bytes <= this.limit) return undefined;
    return new MailStoreError(
      'OVER_QUOTA',
      `the mailbox of ${this.user} is full: ${formatBytes(used)} of its ${formatBytes(this.limit)} quota used, ${what} ${formatBytes(bytes)}`,
      this.user,
    );
  }

  /** hold() once fresh() resolved: no await between the check and the hold. */
  holdNow(bytes: number, what?: string): () => void {
    if (this.limit === Number.POSITIVE_INFINITY) return () => undefined;
    const refused = this.refusal(bytes, what);
    if (refused) throw refused;
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
    };
  }
}

/** How old a total may be before it is counted again: what another process changed shows by then. */
export const RECOUNT_MS = 60_000;
