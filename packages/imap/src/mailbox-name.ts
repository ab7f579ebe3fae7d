/**
 * Mailbox names as IMAP writes them: modified UTF-7 (RFC 3501 §5.1.3), '.' between levels (the
 * Maildir++ delimiter), INBOX in any case. A name becomes a directory of the user's Maildir, so
 * anything that could lead out of it or clash with the layout is refused here, before storage
 * sees it.
 */
export const DELIMITER = '.';

/** Why a name is refused, or null if it is fine. */
export function mailboxNameProblem(name: string): string | null {
  if (name === '') return 'a mailbox name cannot be empty';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a mailbox name cannot hold control characters';
  if (name.includes('/') || name.includes('\\'))
    return `'/' and '\\' are not allowed in mailbox names; use '${DELIMITER}' between levels`;
  if (name.includes('..') || name.startsWith(DELIMITER) || name.endsWith(DELIMITER))
    return `empty level in '${name}': use '${DELIMITER}' between two names, as in Work${DELIMITER}Projects`;
  if (/[^\x20-\x7e]/.test(name)) return 'send non-ASCII mailbox names in modified UTF-7 (RFC 3501 §5.1.3)';
  if (name.length > 200) return 'a mailbox name is limited to 200 characters';
  if (decodeMailboxName(name) === null) return `'${name}' is not valid modified UTF-7 (RFC 3501 §5.1.3)`;
  return null;
}

/** INBOX is case-insensitive (RFC 3501 §5.1); any other name is kept as given. */
export function canonicalMailbox(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/**
 * Modified UTF-7 to Unicode: `&` starts base64 of UTF-16 (with ',' for '/'), `-` ends it, `&-` is
 * '&'. Returns null for a malformed name.
 */
export function decodeMailboxName(name: string): string | null {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c !== '&') {
      out += c;
      continue;
    }
    const end = name.indexOf('-', i);
    if (end === -1) return null;
    const encoded = name.slice(i + 1, end);
    i = end;
    if (encoded === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(encoded)) return null;
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0 || bytes.length === 0) return null;
    out += bytes.swap16().toString('utf16le');
  }
  return out;
}

/** Unicode to modified UTF-7 (what a client sends for "Café": `Caf&AOk-`). */
export function encodeMailboxName(name: string): string {
  return name.replace(/&|[^\x20-\x7e]+/g, (run) => {
    if (run === '&') return '&-';
    const utf16 = Buffer.from(run, 'utf16le').swap16();
    return `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
  });
}
