import type { StoredMessage } from './storage.js';

/**
 * \Recent (RFC 3501 §2.3.2): a message is recent in the first session that selects its mailbox
 * after it arrived, and in no other. The store knows which messages no client has looked at yet
 * (still in the Maildir's new/); this registry, one per server, remembers the highest UID a
 * session already took the \Recent of, per mailbox, so the next session does not see it again.
 */
export class RecentClaims {
  private readonly claimed = new Map<string, number>();

  /**
   * The UIDs that are \Recent for a session now looking at `messages`. A read-only session
   * (EXAMINE) sees them but does not take them (RFC 3501 §6.3.2).
   */
  claim(mailbox: string, messages: readonly StoredMessage[], readOnly: boolean): Set<number> {
    const before = this.claimed.get(mailbox) ?? 0;
    const recent = new Set<number>();
    let highest = before;
    for (const m of messages) {
      if (m.recent && m.uid > before) recent.add(m.uid);
      if (m.uid > highest) highest = m.uid;
    }
    if (!readOnly) this.claimed.set(mailbox, highest);
    return recent;
  }

  /** How many messages a STATUS (RECENT) would show without taking them. */
  count(mailbox: string, messages: readonly StoredMessage[]): number {
    const before = this.claimed.get(mailbox) ?? 0;
    return messages.filter((m) => m.recent && m.uid > before).length;
  }
}
