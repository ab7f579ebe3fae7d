import type { RecentClaims } from './recent.js';
import type { Part } from './response.js';
import type { FolderSnapshots } from './snapshots.js';
import type { FlagChange, FolderState, StoredFolder, StoredMessage } from './storage.js';

/** A message as the selected session knows it. */
export interface ViewMessage extends StoredMessage {}

/**
 * The selected mailbox as this session's client knows it (RFC 3501 §5.5, §7): message sequence
 * numbers are positions in `messages`, and they change only when the client is told. Changes
 * made meanwhile (by another session, a delivery, this session's own EXPUNGE) wait here as
 * pending updates until a moment when telling them is allowed:
 * - EXISTS and FETCH FLAGS at the end of any command, or at once during IDLE;
 * - EXPUNGE never while a FETCH, STORE or SEARCH by sequence number runs (§7.4.1), because
 *   the numbers the client used would then mean other messages.
 */
export class MailboxView {
  /** Sequence number n is messages[n - 1]. */
  messages: ViewMessage[];
  private readonly pendingExpunge = new Set<number>();
  private readonly pendingFlags = new Set<number>();
  private pendingNew: ViewMessage[] = [];
  /** A message was added: look at the store at the next chance. */
  private stale = false;
  /** The highest UID the view has heard of (new ones are above it). */
  private lastUid: number;

  constructor(
    readonly folder: StoredFolder,
    /** The canonical mailbox name, as the change feed names it. */
    readonly name: string,
    readonly readOnly: boolean,
    status: FolderState,
    messages: StoredMessage[],
    /** This session's \Recent messages. */
    readonly recent: Set<number>,
    private readonly claims: RecentClaims,
    private readonly claimKey: string,
    private readonly snapshots: FolderSnapshots,
  ) {
    this.messages = messages;
    this.lastUid = messages.at(-1)?.uid ?? 0;
    this.uidValidity = status.uidValidity;
    this.uidNextAtSelect = status.uidNext;
    this.highestModseq = status.highestModseq;
  }

  readonly uidValidity: number;
  /** UIDNEXT as SELECT reports it (RFC 3501 §2.3.1.1). */
  readonly uidNextAtSelect: number;
  highestModseq: number;

  get exists(): number {
    return this.messages.length;
  }

  /** The message of a UID, by binary search (UIDs ascend with sequence numbers). */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.messages[mid]!.uid;
      if (at === uid) return mid + 1;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  byUid(uid: number): ViewMessage | undefined {
    const seq = this.seqOf(uid);
    return seq ? this.messages[seq - 1] : undefined;
  }

  /** True if the message was expunged and the client not told yet. */
  isExpunged(uid: number): boolean {
    return this.pendingExpunge.has(uid);
  }

  /** \Recent is a flag FETCH shows too. */
  flagsOf(message: ViewMessage): string[] {
    return this.recent.has(message.uid) ? [...message.flags, '\\Recent'] : message.flags;
  }

  // --- the change feed ------------------------------------------------------------------------

  added(): void {
    this.stale = true;
    this.staleSince = this.snapshots.current(this.claimKey);
  }

  /** The snapshot generation the view must see at least, since the last news. */
  private staleSince = 0;

  flagsChanged(change: FlagChange): void {
    const message = this.byUid(change.uid);
    if (!message || change.modseq <= message.modseq) return;
    message.flags = change.flags;
    message.modseq = change.modseq;
    this.highestModseq = Math.max(this.highestModseq, change.modseq);
    this.pendingFlags.add(change.uid);
  }

  expunged(uid: number): void {
    if (this.byUid(uid)) this.pendingExpunge.add(uid);
  }

  /** This session's own STORE: the client is told by the STORE itself, not again later. */
  stored(changed: StoredMessage[]): void {
    for (const c of changed) {
      const message = this.byUid(c.uid);
      if (!message) continue;
      message.flags = c.flags;
      message.modseq = c.modseq;
      this.highestModseq = Math.max(this.highestModseq, c.modseq);
      this.pendingFlags.delete(c.uid);
    }
  }

  /** True if something waits to be told, or the store must be looked at. */
  get hasNews(): boolean {
    return (
      this.stale || this.pendingNew.length > 0 || this.pendingFlags.size > 0 || this.pendingExpunge.size > 0
    );
  }

  /**
   * Looks at the store: messages delivered since (they get their UIDs now), and what another
   * process changed (the change feed only reports this process). `force` looks even if the feed
   * said nothing (NOOP, CHECK: RFC 3501 §6.1.2 makes NOOP the way to poll).
   */
  async sync(force = false): Promise<void> {
    if (!this.stale && !force) return;
    this.stale = false;
    const atLeast = force ? this.snapshots.current(this.claimKey) + 1 : this.staleSince;
    if (force) this.snapshots.changed(this.claimKey);
    const stored = await this.snapshots.messages(this.claimKey, this.folder, atLeast);
    const present = new Set<number>();
    const fresh: StoredMessage[] = [];
    for (const m of stored) {
      present.add(m.uid);
      const known = this.byUid(m.uid);
      if (known) {
        if (m.modseq > known.modseq)
          this.flagsChanged({ user: '', folder: '', uid: m.uid, flags: m.flags, modseq: m.modseq });
      } else if (m.uid > this.lastUid) {
        fresh.push(m);
      }
      this.highestModseq = Math.max(this.highestModseq, m.modseq);
    }
    for (const m of this.messages) if (!present.has(m.uid)) this.pendingExpunge.add(m.uid);
    if (fresh.length) {
      for (const uid of this.claims.claim(this.claimKey, fresh, this.readOnly)) this.recent.add(uid);
      this.lastUid = fresh.at(-1)!.uid;
      this.pendingNew.push(...fresh);
    }
  }

  /**
   * The untagged responses owed to the client, applied to the view as they are returned:
   * EXPUNGE (if allowed now) from the highest sequence number down, so each number is still
   * right when the client reads it; then EXISTS and RECENT; then FETCH with the new flags.
   */
  takeUpdates(expunges: boolean, condstore: boolean): Part[][] {
    const out: Part[][] = [];
    if (expunges && this.pendingExpunge.size) {
      for (let seq = this.messages.length; seq >= 1; seq--) {
        const uid = this.messages[seq - 1]!.uid;
        if (!this.pendingExpunge.has(uid)) continue;
        out.push([`${seq} EXPUNGE`]);
        this.pendingFlags.delete(uid);
        this.recent.delete(uid);
      }
      this.messages = this.messages.filter((m) => !this.pendingExpunge.has(m.uid));
      this.pendingExpunge.clear();
    }
    if (this.pendingNew.length) {
      this.messages.push(...this.pendingNew);
      this.pendingNew = [];
      out.push([`${this.messages.length} EXISTS`], [`${this.recent.size} RECENT`]);
    }
    for (const uid of this.pendingFlags) {
      const seq = this.seqOf(uid);
      if (!seq || this.pendingExpunge.has(uid)) continue;
      const message = this.messages[seq - 1]!;
      const modseq = condstore ? ` MODSEQ (${message.modseq})` : '';
      out.push([`${seq} FETCH (UID ${uid} FLAGS (${this.flagsOf(message).join(' ')})${modseq})`]);
    }
    this.pendingFlags.clear();
    return out;
  }
}
