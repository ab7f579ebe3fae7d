import { open, readFile, rename } from 'node:fs/promises';

/**
 * What IMAP needs and Maildir lacks, kept beside each folder in `portlab-uidlist` (the role of
 * Dovecot's dovecot-uidlist): the folder's UIDVALIDITY, the next UID, the highest MODSEQ, and per
 * message its UID, MODSEQ, internal date and keywords. A text file a student can read:
 *
 *     portlab-uidlist 1
 *     uidvalidity 1732712345
 *     uidnext 4
 *     highestmodseq 7
 *     1 5 1732712345 1732712345.M1234P42Q1.lab,S=1200 $Forwarded
 *     3 7 1732712399 1732712399.M9P42Q2.lab,S=800
 *
 * A message line: uid, modseq, internal date (Unix seconds), Maildir unique name, keywords.
 * UIDs only grow (RFC 3501 §2.3.1.1): `uidnext` is never lowered, even when the last message goes.
 */
export const UIDLIST_FILE = 'portlab-uidlist';
const SIGNATURE = 'portlab-uidlist 1';

export interface UidEntry {
  uid: number;
  modseq: number;
  /** Unix seconds. */
  internalDate: number;
  /** The Maildir unique name (the file name without its `:2,` info). */
  id: string;
  keywords: string[];
}

export interface UidList {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** In UID order. */
  entries: UidEntry[];
}

export function emptyUidList(uidValidity: number): UidList {
  return { uidValidity, uidNext: 1, highestModseq: 1, entries: [] };
}

export function parseUidList(text: string, file: string): UidList {
  const lines = text.split('\n').filter((line) => line !== '');
  if (lines[0] !== SIGNATURE)
    throw new Error(`${file}: not a portlab UID list (first line is not '${SIGNATURE}')`);
  const header = new Map<string, number>();
  const entries: UidEntry[] = [];
  for (const line of lines.slice(1)) {
    const words = line.split(' ');
    if (/^\d/.test(line)) {
      const [uid, modseq, date, id, ...keywords] = words;
      if (!id) throw new Error(`${file}: bad message line '${line}'`);
      entries.push({ uid: Number(uid), modseq: Number(modseq), internalDate: Number(date), id, keywords });
    } else {
      header.set(words[0]!, Number(words[1]));
    }
  }
  const uidValidity = header.get('uidvalidity');
  if (!uidValidity) throw new Error(`${file}: no uidvalidity line`);
  const last = entries.at(-1);
  return {
    uidValidity,
    uidNext: Math.max(header.get('uidnext') ?? 1, (last?.uid ?? 0) + 1),
    highestModseq: Math.max(header.get('highestmodseq') ?? 1, ...entries.map((e) => e.modseq)),
    entries,
  };
}

export function formatUidList(list: UidList): string {
  const lines = [
    SIGNATURE,
    `uidvalidity ${list.uidValidity}`,
    `uidnext ${list.uidNext}`,
    `highestmodseq ${list.highestModseq}`,
    ...list.entries.map((e) => [e.uid, e.modseq, e.internalDate, e.id, ...e.keywords].join(' ')),
  ];
  return `${lines.join('\n')}\n`;
}

/** Reads a folder's UID list, or null if the folder has none yet. */
export async function readUidList(file: string): Promise<UidList | null> {
  try {
    return parseUidList(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Replaces the list atomically: write a temporary file, flush it, rename it over the old one. A
 * reader (or a crash) sees the old list or the new one, never half of one. The caller holds the
 * folder lock and fsyncs the directory before telling anyone a new UID.
 */
export async function writeUidList(file: string, list: UidList): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(formatUidList(list));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
