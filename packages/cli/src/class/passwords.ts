import { randomInt } from 'node:crypto';

/**
 * Passwords a student types from a paper card: consonant-vowel syllables ("kafu-rime-47"), in lower
 * case, with no character that looks like another. Left out: l (1, I), o (0), q (g), y, c (k) and w,
 * the digits 0 and 1. Every choice comes from crypto.randomInt, never Math.random.
 *
 * Strength: a syllable is one of 15 × 4 = 60 (5.9 bits), a digit one of 8 (3 bits). A student's
 * password (4 syllables, 2 digits) holds about 29.6 bits: against a login that slows down after each
 * failure (250 ms doubling to 8 s, packages/service LoginThrottle), guessing it online takes years.
 * The teacher's (6 syllables, 2 digits, 41 bits) opens every account's secrets, so it is longer.
 */
const CONSONANTS = 'bdfghjkmnprstvz';
const VOWELS = 'aeiu';
const DIGITS = '23456789';

const pick = (chars: string) => chars[randomInt(chars.length)]!;

function word(syllables: number): string {
  let text = '';
  for (let i = 0; i < syllables; i++) text += pick(CONSONANTS) + pick(VOWELS);
  return text;
}

/** `words` words of two syllables, then two digits: "kafu-rime-47". */
export function easyPassword(words = 2): string {
  const parts = Array.from({ length: words }, () => word(2));
  return `${parts.join('-')}-${pick(DIGITS)}${pick(DIGITS)}`;
}

/** The teacher's password: three words, "kafu-rime-tesa-47". */
export const teacherPassword = () => easyPassword(3);
