import type { FolderSnapshot, StoredFolder } from './storage.js';

/**
 * \Recent (RFC 3501 §2.3.2): "this session is the first session to have been notified about this
 * message". A new message, however it came (a delivery, APPEND, COPY, MOVE: §6.3.11 and §6.4.7
 * say the copy is recent too), is recent in exactly one session: the first to see it with the
 * mailbox selected read-write, at SELECT (§6.3.1) or later when it arrives (§7.3.2: `* n RECENT`
 * goes with `* n EXISTS`). EXAMINE (§6.3.2) must not take \Recent away: a read-only session sees
 * which messages are still recent, and leaves them so for the next session that selects.
 *
 * The store keeps the first UID not yet seen as recent (`firstrecentuid` in the uidlist, as
 * Dovecot keeps its first recent UID in its index), so a restart does not make old mail recent
 * again and two processes never both take a message. STATUS (RECENT) counts the messages at or
 * above it (§6.3.10).
 */
export async function lookAndTakeRecent(
  folder: StoredFolder,
  readOnly: boolean,
): Promise<{ snapshot: FolderSnapshot; recent: number[] }> {
  if (!readOnly) {
    // One step in the store: whoever comes second finds nothing left to take.
    const { snapshot, claimed } = await folder.claimRecent();
    return { snapshot, recent: claimed };
  }
  const snapshot = await folder.snapshot();
  const { firstRecentUid } = snapshot.status;
  return { snapshot, recent: snapshot.messages.filter((m) => m.uid >= firstRecentUid).map((m) => m.uid) };
}
