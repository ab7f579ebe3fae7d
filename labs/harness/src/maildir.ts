/**
 * Reads a user's INBOX the way `ls` and `cat` would (Maildir: new/ holds unread arrivals, cur/ the
 * messages a client has seen; ":2,S" at the end of a name is the \Seen flag). Used by lab 2's check.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredMessage {
  file: string;
  seen: boolean;
  /** Header fields, lower-case names; the first occurrence of each (the Received: nearest the top). */
  headers: Map<string, string>;
}

/**
 * Header fields by message: a Maildir message never changes once delivered, only its name's flags
 * (and new/ -> cur/), so what was read once is kept, by the unique part of the name (before ':').
 * Lab 2's check reads every mailbox of the class, again and again on the server.
 */
const headerCache = new Map<string, Map<string, string>>();
const HEADER_CACHE_MAX = 200_000;

/** libmime, loaded at the first mailbox read: a process that never checks lab 2 does not hold it (issue #20). */
let decodeWords: ((text: string) => string) | undefined;

export async function inbox(mailDir: string, user: string): Promise<StoredMessage[]> {
  if (!decodeWords) {
    const { default: libmime } = await import('libmime');
    decodeWords = (text) => libmime.decodeWords(text); // a method: it calls this.decodeWord
  }
  const messages: StoredMessage[] = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(mailDir, user, sub);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(dir, name);
      const key = path.join(mailDir, user, name.split(':')[0]!);
      let headers = headerCache.get(key);
      if (!headers) {
        // Expunged or moved since readdir: gone, skip it.
        const text = await readFile(file, 'latin1').catch(() => null);
        if (text === null) continue;
        headers = headerFields(text, decodeWords);
        if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear();
        headerCache.set(key, headers);
      }
      const info = name.split(':2,')[1] ?? '';
      messages.push({ file, seen: info.includes('S'), headers });
    }
  }
  return messages;
}

/** RFC 5322 §2.2: fields up to the first empty line; a line starting with white space continues the field. */
function headerFields(text: string, decode: (text: string) => string): Map<string, string> {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const fields = new Map<string, string>();
  for (const field of head.split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name))
      fields.set(
        name,
        // RFC 2047 encoded words (=?UTF-8?Q?Zo=C3=A9?=), as clients write a subject with accents.
        decode(
          field
            .slice(colon + 1)
            .replace(/\r?\n[ \t]+/g, ' ')
            .trim(),
        ),
      );
  }
  return fields;
}
