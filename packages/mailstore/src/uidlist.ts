import { open, readFile, rename } from 'node:fs/promises';

/**
 * What IMAP needs and Maildir lacks, kept beside each folder in `portlab-uidlist` (the role of
 * Dovecot's dovecot-uidlist): the folder's UIDVALIDITY, the next UID, the highest MODSEQ, the first
 * UID no session has yet seen as \Recent, and per message its UID, MODSEQ, internal date and
 * keywords. A text file a student can read:
 *
 *     portlab-uidlist 1
 *     uidvalidity 1732712345
 *     uidnext 4
 *     highestmodseq 7
 *     firstrecentuid 3
 *     1 5 1732712345 1732712345.M1234P42Q1.lab,S=1200 $Forwarded
 *     3 7 1732712399 1732712399.M9P42Q2.lab,S=800
 *     3 8 1732712399 1732712399.M9P42Q2.lab,S=800 Important
 *     expunge 1
 *     uidnext 4
 *     highestmodseq 9
 *     firstrecentuid 4
 *
 * A message line: uid, modseq, internal date (Unix seconds), Maildir unique name, keywords.
 * The file is a log: a change is *appended* (a line for a UID already listed replaces it,
 * `expunge <uid>` removes it, a later `uidnext`/`highestmodseq`/`firstrecentuid` line wins), so a STORE on one
 * message of 10,000 writes one line, not 10,000. When the appended lines outnumber the messages the
 * file is compacted: written whole to a temporary file and renamed over the old one.
 * A crash in the middle of an append leaves a last line without its newline: it is ignored (the
 * change it held was never reported done), and the next writer compacts the file.
 * UIDs only grow (RFC 3501 §2.3.1.1): `uidnext` is never lowered, even when the last message goes.
 *
 * `firstrecentuid` is how \Recent (RFC 3501 §2.3.2) survives a restart, as Dovecot keeps its
 * first recent UID in its index: the messages at or above it have not been seen by any session
 * yet. A session that selects the folder takes them, and the line moves up to `uidnext`. A file
 * written before this line existed has none: then nothing counts as recent (old mail must not
 * become recent again), and the next write rewrites the file whole with the line.
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
  /** The messages with this UID or higher are \Recent: no session has seen them yet. */
  firstRecentUid: number;
  /** In UID order. */
  entries: UidEntry[];
}

/** A list as read from its file: how many lines it had, and whether it must be rewritten whole. */
export interface StoredUidList {
  list: UidList;
  lines: number;
  /** The last line was cut short (a crash during an append), or the file predates `firstrecentuid`. */
  rewrite: boolean;
}

/** One change to a list, as the lines appended for it. */
export interface UidListChange {
  /** New messages, and messages whose MODSEQ or keywords changed (the whole entry, as it is now). */
  upsert: UidEntry[];
  expunge: number[];
  uidNext: number;
  highestModseq: number;
  /** Set when a session took the \Recent messages (written only then). */
  firstRecentUid?: number;
}

export function emptyUidList(uidValidity: number): UidList {
  return { uidValidity, uidNext: 1, highestModseq: 1, firstRecentUid: 1, entries: [] };
}

export function parseUidList(text: string, file: string): StoredUidList {
  const lines = text.split('\n');
  // The last piece is '' after a final newline; anything else is a line an append left half-written.
  const tail = lines.pop();
  const torn = tail !== undefined && tail !== '';
  if (lines[0] !== SIGNATURE)
    throw new Error(`${file}: not a portlab UID list (first line is not '${SIGNATURE}')`);
  const header = new Map<string, number>();
  const byUid = new Map<number, UidEntry>();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const words = line.split(' ');
    if (/^\d/.test(line)) {
      const [uid, modseq, date, id, ...keywords] = words;
      if (!id) throw new Error(`${file}: bad message line '${line}'`);
      byUid.set(Number(uid), {
        uid: Number(uid),
        modseq: Number(modseq),
        internalDate: Number(date),
        id,
        keywords,
      });
    } else if (words[0] === 'expunge') {
      byUid.delete(Number(words[1]));
    } else {
      header.set(words[0]!, Number(words[1]));
    }
  }
  const uidValidity = header.get('uidvalidity');
  if (!uidValidity) throw new Error(`${file}: no uidvalidity line`);
  // A replaced entry keeps its place and new UIDs are higher than every earlier one, so the map
  // is in UID order already; sort anyway if a hand-edited file says otherwise.
  const entries = [...byUid.values()];
  if (entries.some((e, i) => i > 0 && e.uid < entries[i - 1]!.uid)) entries.sort((a, b) => a.uid - b.uid);
  let highestModseq = header.get('highestmodseq') ?? 1;
  for (const e of entries) highestModseq = Math.max(highestModseq, e.modseq);
  const uidNext = Math.max(header.get('uidnext') ?? 1, (entries.at(-1)?.uid ?? 0) + 1);
  const firstRecentUid = header.get('firstrecentuid');
  return {
    list: { uidValidity, uidNext, highestModseq, firstRecentUid: firstRecentUid ?? uidNext, entries },
    lines: lines.length,
    rewrite: torn || firstRecentUid === undefined,
  };
}

function formatEntry(e: UidEntry): string {
  return [e.uid, e.modseq, e.internalDate, e.id, ...e.keywords].join(' ');
}

export function formatUidList(list: UidList): string {
  const lines = [
    SIGNATURE,
    `uidvalidity ${list.uidValidity}`,
    `uidnext ${list.uidNext}`,
    `highestmodseq ${list.highestModseq}`,
    `firstrecentuid ${list.firstRecentUid}`,
    ...list.entries.map(formatEntry),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The lines that record a change at the end of the file. A message line carries its UID and MODSEQ,
 * which is all a reader needs for UIDNEXT and HIGHESTMODSEQ, except after an expunge: the message
 * gone may have held the highest of both, so those two are written out then.
 */
export function formatChange(change: UidListChange): string {
  const lines = [...change.upsert.map(formatEntry), ...change.expunge.map((uid) => `expunge ${uid}`)];
  if (change.expunge.length) lines.push(`uidnext ${change.uidNext}`, `highestmodseq ${change.highestModseq}`);
  if (change.firstRecentUid !== undefined) lines.push(`firstrecentuid ${change.firstRecentUid}`);
  return `${lines.join('\n')}\n`;
}

/** The list with a change applied, as a new list (the one given is left as it is). */
export function applyChange(list: UidList, change: UidListChange): UidList {
  const gone = new Set(change.expunge);
  const replaced = new Map(change.upsert.map((e) => [e.uid, e]));
  const entries = list.entries.filter((e) => !gone.has(e.uid)).map((e) => replaced.get(e.uid) ?? e);
  const last = list.entries.at(-1)?.uid ?? 0;
  entries.push(...change.upsert.filter((e) => e.uid > last));
  return {
    ...list,
    uidNext: change.uidNext,
    highestModseq: change.highestModseq,
    firstRecentUid: change.firstRecentUid ?? list.firstRecentUid,
    entries,
  };
}

/** Reads a folder's UID list, or null if the folder has none yet. */
export async function readUidList(file: string): Promise<StoredUidList | null> {
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

/**
 * Appends a change, flushed before this resolves. The caller holds the folder lock, so appends
 * never interleave; the file's name does not change, so no directory fsync is needed.
 */
export async function appendUidList(file: string, change: UidListChange): Promise<number> {
  const text = formatChange(change);
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return text.split('\n').length - 1;
}
