import { ImapSyntaxError } from './tokenizer.js';

/**
 * A sequence set (RFC 3501 §9 `sequence-set`): `1:3,7,10:*`. The same syntax names messages by
 * sequence number or, in UID commands, by UID. `*` is the largest number in use, so a range is
 * kept as written and resolved against the mailbox when it is used.
 */
export type SequenceSet = { from: number; to: number }[];

/** Stands for `*` until the mailbox says what the largest number is. */
export const STAR = -1;

export function parseSequenceSet(text: string): SequenceSet {
  if (!/^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(text))
    throw new ImapSyntaxError(`'${text}' is not a sequence set: use numbers, ranges and * as in 1:3,7,10:*`);
  return text.split(',').map((range) => {
    const [from, to = from] = range.split(':').map((n) => (n === '*' ? STAR : Number(n)));
    if (from === 0 || to === 0) throw new ImapSyntaxError(`'${text}': message numbers start at 1, not 0`);
    return { from: from!, to: to! };
  });
}

/** True if `n` is in the set, `*` standing for `largest`. A range may be written either way round. */
export function inSequenceSet(set: SequenceSet, n: number, largest: number): boolean {
  for (const range of set) {
    const a = range.from === STAR ? largest : range.from;
    const b = range.to === STAR ? largest : range.to;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** Writes sorted numbers back as a short set: [1,2,3,7] -> `1:3,7` (COPYUID, ESEARCH ALL). */
export function formatSequenceSet(numbers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
