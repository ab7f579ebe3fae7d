import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { inSequenceSet, type SequenceSet, STAR } from './parser/sequence-set.js';

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
  // One range (`1:*`, `UID 200:299`): its ends found by binary search, not a walk through all.
  if (set.length === 1) {
    const { from, to } = set[0]!;
    const a = from === STAR ? largest : from;
    const b = to === STAR ? largest : to;
    const first = uid ? firstAtLeast(messages, Math.min(a, b)) + 1 : Math.min(a, b);
    const last = uid ? firstAtLeast(messages, Math.max(a, b) + 1) : Math.min(Math.max(a, b), messages.length);
    for (let seq = first; seq <= last; seq++) numbers.push(seq);
    return numbers;
  }
  messages.forEach((m, i) => {
    if (inSequenceSet(set, uid ? m.uid : i + 1, largest)) numbers.push(i + 1);
  });
  return numbers;
}

/** The messages a sequence set names (see sequenceNumbersOf). */
export function messagesOf(view: MailboxView, set: SequenceSet, uid: boolean): ViewMessage[] {
  return sequenceNumbersOf(view, set, uid).map((seq) => view.messages[seq - 1]!);
}

/** The index of the first message whose UID is `uid` or more (messages.length if none). */
function firstAtLeast(messages: readonly ViewMessage[], uid: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid]!.uid < uid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
