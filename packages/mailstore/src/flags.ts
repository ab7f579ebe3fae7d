/**
 * Flags in a Maildir file name. The name ends in an "info" part, `:2,` then one letter per flag in
 * ASCII order (https://cr.yp.to/proto/maildir.html): what mutt and Dovecot read too. The letters
 * map onto the IMAP system flags of RFC 3501 §2.3.2; other keywords live in the UID list.
 */
export const INFO_SEPARATOR = ':2,';

const LETTER_TO_FLAG: Readonly<Record<string, string>> = {
  D: '\\Draft',
  F: '\\Flagged',
  // "Passed": resent, forwarded or bounced. IMAP has no system flag for it; $Forwarded is the
  // keyword mail clients use for the same thing (IANA IMAP keywords registry, RFC 5788).
  P: '$Forwarded',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};

const FLAG_TO_LETTER = new Map(Object.entries(LETTER_TO_FLAG).map(([letter, flag]) => [flag, letter]));

/** The flags a file name carries (the part after `:2,`). Unknown letters are ignored. */
export function flagsOfInfo(info: string): string[] {
  return [...info].flatMap((letter) => LETTER_TO_FLAG[letter] ?? []);
}

/** The Maildir unique name of a file name: what comes before `:2,` (the message's id). */
export function uniqueNameOf(file: string): string {
  const at = file.indexOf(INFO_SEPARATOR);
  return at === -1 ? file : file.slice(0, at);
}

/** The info part of a file name: `FS` of `…:2,FS`. */
export function infoPart(file: string): string {
  const at = file.indexOf(INFO_SEPARATOR);
  return at === -1 ? '' : file.slice(at + INFO_SEPARATOR.length);
}

/** True if the flag is stored in the file name rather than in the UID list. */
export function isFilenameFlag(flag: string): boolean {
  return FLAG_TO_LETTER.has(flag);
}

/** The info letters for a set of flags, in ASCII order as the Maildir spec requires. */
export function infoOfFlags(flags: Iterable<string>): string {
  const letters = new Set<string>();
  for (const flag of flags) {
    const letter = FLAG_TO_LETTER.get(flag);
    if (letter) letters.add(letter);
  }
  return [...letters].sort().join('');
}

/**
 * IMAP flags are case-insensitive (RFC 3501 §2.3.2): `\seen` is `\Seen`. System flags are given
 * their canonical spelling; a keyword must be an IMAP atom (no spaces, parentheses, wildcards).
 */
export function normalizeFlag(flag: string): string {
  const system = [...FLAG_TO_LETTER.keys()].find((f) => f.toLowerCase() === flag.toLowerCase());
  if (system) return system;
  if (flag.startsWith('\\') || !/^[^\s(){%*"\\\]\x00-\x1f\x7f]+$/.test(flag)) {
    throw new Error(
      `invalid flag '${flag}': use \\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft or a keyword atom`,
    );
  }
  return flag;
}
