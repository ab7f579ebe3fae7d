import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { inSequenceSet, type SequenceSet } from './parser/sequence-set.js';

/**
 * The sequence numbers of the messages a sequence set names in the selected mailbox: by sequence
 * number, or by UID in the UID commands (RFC 3501 §6.4.8). Numbers that name no message are left
 * out; `*` is the last message (its UID in UID commands), so `UID FETCH 900:*` always names at
 * least that one.
 */
export function sequenceNumbersOf(view: MailboxView, set: SequenceSet, uid: boolean): number[] {
  const { messages } = view;
  const numbers: number[] = [];
  if (messages.length === 0) return numbers;
  const largest = uid ? messages[messages.length - 1]!.uid : messages.length;
  messages.forEach((m, i) => {
    if (inSequenceSet(set, uid ? m.uid : i + 1, largest)) numbers.push(i + 1);
  });
  return numbers;
}

/** The messages a sequence set names (see sequenceNumbersOf). */
export function messagesOf(view: MailboxView, set: SequenceSet, uid: boolean): ViewMessage[] {
  return sequenceNumbersOf(view, set, uid).map((seq) => view.messages[seq - 1]!);
}
