import { describe, expect, it } from 'vitest';
import type { MailboxView, ViewMessage } from '../src/mailbox-view.js';
import { sequenceNumbersOf } from '../src/message-set.js';
import { parseSequenceSet } from '../src/parser/sequence-set.js';
import { tokenize } from '../src/parser/tokenizer.js';
import { parseSearchKeys, readsMessages } from '../src/search.js';

const keys = (text: string) => parseSearchKeys(tokenize([text]));

describe('which SEARCH keys read messages (the others are answered from the view alone)', () => {
  it('flags, sequence and UID sets, sizes, internal dates and MODSEQ need no reading', () => {
    for (const text of [
      'UNSEEN',
      'NOT SEEN FLAGGED',
      'UID 1:* LARGER 100',
      'OR NEW BEFORE 1-Jan-2024',
      'MODSEQ 5',
      '1:10',
    ])
      expect(readsMessages(keys(text)), text).toBe(false);
  });

  it('headers, addresses, text and the Date: header (SENT*) read, even deep inside OR and NOT', () => {
    for (const text of [
      'SUBJECT hello',
      'FROM alice',
      'TEXT zanzibar',
      'OR SEEN (NOT BODY x)',
      'SENTON 1-Jan-2024',
    ])
      expect(readsMessages(keys(text)), text).toBe(true);
  });
});

describe('sequenceNumbersOf', () => {
  // UIDs with gaps, as after expunges: 2 4 6 ... 40.
  const messages = Array.from({ length: 20 }, (_, i) => ({ uid: 2 * (i + 1) }) as ViewMessage);
  const view = { messages } as MailboxView;
  const walk = (text: string, uid: boolean) =>
    messages.flatMap((m, i) => {
      const n = uid ? m.uid : i + 1;
      const largest = uid ? 40 : 20;
      return parseSequenceSet(text)
        .map(({ from, to }) => [from === -1 ? largest : from, to === -1 ? largest : to])
        .some(([a, b]) => n >= Math.min(a!, b!) && n <= Math.max(a!, b!))
        ? [i + 1]
        : [];
    });

  it('finds a single range by binary search as a walk would, by UID and by number, either way round', () => {
    for (const text of ['1:*', '5:9', '9:5', '3', '4', '41:*', '*:30', '100', '7:7', '15:25'])
      for (const uid of [true, false])
        expect(sequenceNumbersOf(view, parseSequenceSet(text), uid), text).toEqual(walk(text, uid));
  });

  it('keeps sequence order without repeats when ranges overlap', () => {
    expect(sequenceNumbersOf(view, parseSequenceSet('10:12,2,11'), false)).toEqual([2, 10, 11, 12]);
  });
});
