import { MAILBOX_FLAGS } from './flags.js';
import { lookAndTakeRecent } from './recent.js';
import type { Part } from './response.js';
import type { FlagChange, FolderSnapshot, StoredFolder, StoredMessage } from './storage.js';

/** `(\Seen)` and `(\Seen \Recent)` for `\Seen`: FLAGS of one flag, made once (a few dozen, for all sessions). */
const ONE_FLAG = new Map<string, [string, string]>();

/**
 * A message as the selected session knows it: the store's shared object, never modified (a flag
 * change puts another object in its place).
 */
export type ViewMessage = StoredMessage;

/**
 * The selected mailbox as this session's client knows it (RFC 3501 §5.5, §7): message sequence
 * numbers are positions in `messages`, and they change only when the client is told. Changes
 * made meanwhile (by another session, a delivery, this session's own EXPUNGE) wait here as
 * pending updates until a moment when telling them is allowed:
 * - EXISTS and FETCH FLAGS at the end of any command, or at once during IDLE;
 * - EXPUNGE never while a FETCH, STORE or SEARCH by sequence number runs (§7.4.1), because
 *   the numbers the client used would then mean other messages.
 *
 * The message objects are the store's snapshot's, shared with every other session that has the
 * mailbox selected: a session costs an array of references, not a copy of 10,000 messages.
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
  /** The store's snapshot the view was last compared with: the same one again means no news. */
  private seen: FolderSnapshot;
  /** This session's own flag change under way: its UIDs, and what the feed said of them meanwhile. */
  private changing: { uids: Set<number>; heard: FlagChange[] } | null = null;
  /** A look at the store under way (see sync), or null. */
  private looking: Promise<void> | null = null;
  /** The flags the client was told of in FLAGS (RFC 3501 §7.2.6): the mailbox's, then every keyword met. */
  private readonly told: Set<string>;

  constructor(
    readonly folder: StoredFolder,
    /** The canonical mailbox name, as the change feed names it. */
    readonly name: string,
    readonly readOnly: boolean,
    snapshot: FolderSnapshot,
    /** This session's \Recent messages (recent.ts). */
    readonly recent: Set<number>,
  ) {
    this.seen = snapshot;
    this.messages = [...snapshot.messages];
    this.told = new Set(MAILBOX_FLAGS);
    for (const m of this.messages) for (const flag of m.flags) this.told.add(flag);
    this.lastUid = this.messages.at(-1)?.uid ?? 0;
    this.uidValidity = snapshot.status.uidValidity;
    this.uidNextAtSelect = snapshot.status.uidNext;
    this.highestModseq = snapshot.status.highestModseq;
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

  /**
   * `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]`: the flags of the mailbox (RFC 3501 §7.2.6),
   * and those a client can change for good (§7.1; none if read-only; `\*`: new keywords too).
   */
  flagsResponses(): string[] {
    const flags = [...this.told].join(' ');
    return [
      `FLAGS (${flags})`,
      this.readOnly
        ? 'OK [PERMANENTFLAGS ()] read-only: no flag can be changed'
        : `OK [PERMANENTFLAGS (${flags} \\*)] flags and new keywords are kept`,
    ];
  }

  /**
   * What must be told before a response shows this message's flags: a keyword the client has not
   * heard of in a FLAGS response (brought by another session's STORE, a COPY, an APPEND) is
   * announced first, with FLAGS and PERMANENTFLAGS (RFC 3501 §7.2.6: FLAGS lists the flags the
   * mailbox has). Nothing, the usual case, otherwise.
   */
  newFlagsBefore(message: ViewMessage): string[] {
    let news = false;
    for (const flag of message.flags) {
      if (this.told.has(flag)) continue;
      this.told.add(flag);
      news = true;
    }
    return news ? this.flagsResponses() : [];
  }

  /** The flags as FETCH shows them, `(\Seen \Recent)`: \Recent is a flag FETCH shows too. */
  flagList(message: ViewMessage): string {
    const recent = this.recent.has(message.uid);
    // No flag at all (new mail): a constant, no string to make.
    if (message.flags.length === 0) return recent ? '(\\Recent)' : '()';
    // One flag (\Seen: most of a mailbox): the same string every time, made once.
    if (message.flags.length === 1) {
      const flag = message.flags[0]!;
      let lists = ONE_FLAG.get(flag);
      if (lists === undefined) {
        lists = [`(${flag})`, `(${flag} \\Recent)`];
        if (ONE_FLAG.size < 64) ONE_FLAG.set(flag, lists);
      }
      return lists[recent ? 1 : 0];
    }
    return `(${message.flags.join(' ')}${recent ? ' \\Recent' : ''})`;
  }

  // --- the change feed ------------------------------------------------------------------------

  added(): void {
    this.stale = true;
  }

  flagsChanged(change: FlagChange): void {
    // During this session's own change of this message, held until the store answers (setFlags).
    if (this.changing?.uids.has(change.uid)) this.changing.heard.push(change);
    else this.replace({ ...change, notify: true });
  }

  expunged(uid: number): void {
    if (this.byUid(uid)) this.pendingExpunge.add(uid);
  }

  /**
   * This session's own flag change (STORE, FETCH's \Seen): the messages as the store answers
   * them go into the view at once, and the command itself tells the client. The change feed
   * reports the same change while the store makes it: those reports are held aside meanwhile
   * and recognised by UID and MODSEQ, so the session is not told of its own change as news.
   * Another session's change made in between is told as any other.
   */
  async setFlags(
    uids: number[],
    operation: 'add' | 'remove' | 'replace',
    flags: string[],
  ): Promise<StoredMessage[]> {
    const heard: FlagChange[] = [];
    this.changing = { uids: new Set(uids), heard };
    let changed: StoredMessage[];
    try {
      changed = await this.folder.setFlags(uids, operation, flags);
    } finally {
      this.changing = null;
    }
    const mine = new Set<string>();
    for (const c of changed) {
      this.replace({ ...c, notify: false });
      mine.add(`${c.uid} ${c.modseq}`);
    }
    for (const h of heard) if (!mine.has(`${h.uid} ${h.modseq}`)) this.replace({ ...h, notify: true });
    return changed;
  }

  /** Puts a message's new flags in the view, if they are newer than what it has. */
  private replace(change: { uid: number; flags: string[]; modseq: number; notify: boolean }): void {
    const seq = this.seqOf(change.uid);
    const message = this.messages[seq - 1];
    if (!message || change.modseq <= message.modseq) return;
    this.messages[seq - 1] = { ...message, flags: change.flags, modseq: change.modseq };
    this.highestModseq = Math.max(this.highestModseq, change.modseq);
    if (change.notify) this.pendingFlags.add(change.uid);
    else this.pendingFlags.delete(change.uid);
  }

  /** True if something waits to be told, or the store must be looked at. */
  get hasNews(): boolean {
    return (
      this.stale || this.pendingNew.length > 0 || this.pendingFlags.size > 0 || this.pendingExpunge.size > 0
    );
  }

  /**
   * Looks at the store: messages delivered since (they get their UIDs now), and what another
   * process changed (the change feed only reports this process). `poll` looks even if the feed
   * said nothing (NOOP, CHECK: RFC 3501 §6.1.2 makes NOOP the way to poll). The store hands out the
   * same snapshot while nothing changed, so a look at an unchanged mailbox costs a comparison;
   * otherwise the two lists, both in UID order, are walked side by side.
   *
   * `quick` (NOOP) never waits behind another session's write when it only polls: if one holds
   * the folder's lock (a STORE and its fsyncs), or a look is under way already, the look goes on
   * without the caller and what it finds waits in the view to be told at the next chance. The
   * client then hears of it a command later, as if it had come a moment later: RFC 3501 §7 lets
   * untagged updates come at any time, and the view tells them only when §7.4.1 allows, as always.
   * Whatever the view knows already (the change feed's flags and expunges) is told at once. When
   * the feed said new mail came (`stale`: an APPEND, COPY or delivery in this process that has
   * answered), NOOP waits for the look: a student who appends in one client and types NOOP in
   * another must see the EXISTS then, not one command later.
   */
  async sync({ poll = false, quick = false }: { poll?: boolean; quick?: boolean } = {}): Promise<void> {
    // Nothing heard of and no poll: no look, nor a wait for one under way (its news comes later).
    if (!this.stale && !poll) return;
    if (quick && !this.stale && (this.looking || this.folder.busy)) {
      if (!this.looking)
        this.look().catch(() => {
          // The next look tries again.
          this.stale = true;
        });
      return;
    }
    // A look under way may have begun before the change this caller wants told: wait, then look again.
    while (this.looking) await this.looking.catch(() => undefined);
    if (this.stale || poll) await this.look();
  }

  /** One look at a time: `looking` until it is applied to the view. */
  private look(): Promise<void> {
    this.stale = false;
    const run = this.compare();
    this.looking = run;
    const done = () => {
      if (this.looking === run) this.looking = null;
    };
    run.then(done, done);
    return run;
  }

  /** Takes the store's snapshot and notes what differs from the view as pending updates. */
  private async compare(): Promise<void> {
    // New mail is \Recent for the first session that hears of it (RFC 3501 §7.3.2, recent.ts).
    const { snapshot, recent } = await lookAndTakeRecent(this.folder, this.readOnly);
    if (snapshot === this.seen) return;
    this.seen = snapshot;
    const known = this.messages;
    const fresh: StoredMessage[] = [];
    let i = 0;
    for (const m of snapshot.messages) {
      while (i < known.length && known[i]!.uid < m.uid) this.pendingExpunge.add(known[i++]!.uid);
      if (i < known.length && known[i]!.uid === m.uid) {
        const mine = known[i]!;
        if (m.modseq > mine.modseq) this.pendingFlags.add(m.uid);
        // The store's object, newer or the same: share it rather than keep a copy.
        if (m.modseq >= mine.modseq) known[i] = m;
        i++;
      } else if (m.uid > this.lastUid) {
        fresh.push(m);
      }
    }
    while (i < known.length) this.pendingExpunge.add(known[i++]!.uid);
    this.highestModseq = Math.max(this.highestModseq, snapshot.status.highestModseq);
    for (const uid of recent) if (uid > this.lastUid) this.recent.add(uid);
    if (fresh.length) {
      this.lastUid = fresh.at(-1)!.uid;
      this.pendingNew.push(...fresh);
    }
  }

  /**
   * The untagged responses owed to the client, applied to the view as they are returned:
   * EXPUNGE (if allowed now) from the highest sequence number down, so each number is still
   * right when the client reads it; then EXISTS and RECENT; then FETCH with the new flags.
   */
  takeUpdates({ expunges, condstore }: { expunges: boolean; condstore: boolean }): Part[][] {
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
      for (const line of this.newFlagsBefore(message)) out.push([line]);
      out.push([`${seq} FETCH (UID ${uid} FLAGS ${this.flagList(message)}${modseq})`]);
    }
    this.pendingFlags.clear();
    return out;
  }
}
