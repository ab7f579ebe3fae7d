import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { inSequenceSet, type SequenceSet } from './parser/sequence-set.js';

/**
 * The messages a sequence set names in the selected mailbox: by sequence number, or by UID in the
 * UID commands (RFC 3501 §6.4.8). Numbers that name no message are left out; `*` is the last
 * message (its UID in UID commands), so `UID FETCH 900:*` always names at least that one.
 */
export function messagesOf(view: MailboxView, set: SequenceSet, uid: boolean): ViewMessage[] {
  const { messages } = view;
  if (messages.length === 0) return [];
  if (uid) {
    const largest = messages[messages.length - 1]!.uid;
    return messages.filter((m) => inSequenceSet(set, m.uid, largest));
  }
  return messages.filter((_, i) => inSequenceSet(set, i + 1, messages.length));
}
