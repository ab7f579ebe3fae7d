import { dayOf, parseSearchDate, sentDayOf } from './dates.js';
import type { MailboxView, ViewMessage } from './mailbox-view.js';
import { inBatches, type MessageLoader, ReadBuffers } from './message-loader.js';
import { parseAddressList } from './mime/address.js';
import { decodeHeaderValue } from './mime/decode.js';
import { fieldValue } from './mime/header.js';
import { parseMime } from './mime/structure.js';
import { stringOf } from './parser/args.js';
import { inSequenceSet, parseSequenceSet, type SequenceSet } from './parser/sequence-set.js';
import { ImapSyntaxError, type Token } from './parser/tokenizer.js';
import { containsText, Needle } from './text-search.js';

/** A search key of RFC 3501 §6.4.4 (and MODSEQ, RFC 7162 §3.1.5), as a tree. */
export type SearchKey =
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'all' }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'recent' | 'new' | 'old' }
  | { op: 'seq' | 'uid'; set: SequenceSet }
  | { op: 'size'; larger: boolean; size: number }
  | { op: 'date'; sent: boolean; compare: 'before' | 'on' | 'since'; day: number }
  | { op: 'header'; field: string; value: string }
  | { op: 'address'; field: string; value: string }
  | { op: 'body' | 'text'; needle: Needle }
  | { op: 'modseq'; modseq: number };

const USAGE = 'SEARCH [CHARSET UTF-8] key ... (e.g. SEARCH UNSEEN FROM "alice" SINCE 1-Jan-2024)';

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const DATE_KEYS: Record<string, [boolean, 'before' | 'on' | 'since']> = {
  BEFORE: [false, 'before'],
  ON: [false, 'on'],
  SINCE: [false, 'since'],
  SENTBEFORE: [true, 'before'],
  SENTON: [true, 'on'],
  SENTSINCE: [true, 'since'],
};

/**
 * How deep lists, NOT and OR may nest. The grammar has no limit (RFC 3501 §9, search-key), but the
 * parser and the matcher recurse: 5,000 levels fit in one 64 KB line and overflowed the stack,
 * which cut the connection with no answer. No person nor mail client nests this deep.
 */
const MAX_NESTING = 50;

/** Reads every key of the list (they are ANDed, RFC 3501 §6.4.4). */
export function parseSearchKeys(tokens: Token[], depth = 0): SearchKey {
  const reader = { tokens, at: 0 };
  const keys: SearchKey[] = [];
  while (reader.at < tokens.length) keys.push(parseKey(reader, depth));
  if (keys.length === 0) throw new ImapSyntaxError(`no search key: use ${USAGE}`);
  return keys.length === 1 ? keys[0]! : { op: 'and', keys };
}

function parseKey(r: { tokens: Token[]; at: number }, depth: number): SearchKey {
  if (depth > MAX_NESTING) {
    throw new ImapSyntaxError(`search keys nest deeper than ${MAX_NESTING} levels of (), NOT and OR`);
  }
  const token = r.tokens[r.at++];
  if (!token) throw new ImapSyntaxError(`a search key is missing its argument: use ${USAGE}`);
  if (token.type === 'list') return parseSearchKeys(token.items, depth + 1);
  const word = stringOf(token, 'search key', USAGE);
  const name = word.toUpperCase();
  const arg = (what: string) => {
    const t = r.tokens[r.at++];
    if (!t) throw new ImapSyntaxError(`${name} needs ${what}: use ${USAGE}`);
    return stringOf(t, what, USAGE);
  };
  const number = (what: string) => {
    const value = arg(what);
    if (!/^\d+$/.test(value)) throw new ImapSyntaxError(`${name} needs ${what}, a number`);
    return Number(value);
  };
  if (FLAG_KEYS[name]) return { op: 'flag', flag: FLAG_KEYS[name][0], set: FLAG_KEYS[name][1] };
  if (DATE_KEYS[name]) {
    const day = parseSearchDate(arg('a date'));
    if (day === null) throw new ImapSyntaxError(`${name} needs a date such as 1-Feb-2024`);
    return { op: 'date', sent: DATE_KEYS[name][0], compare: DATE_KEYS[name][1], day };
  }
  switch (name) {
    case 'ALL':
      return { op: 'all' };
    case 'RECENT':
    case 'NEW':
    case 'OLD':
      return { op: name.toLowerCase() as 'recent' | 'new' | 'old' };
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { op: 'flag', flag: arg('a keyword'), set: name === 'KEYWORD' };
    case 'LARGER':
    case 'SMALLER':
      return { op: 'size', larger: name === 'LARGER', size: number('a size') };
    case 'FROM':
    case 'TO':
    case 'CC':
    case 'BCC':
      return { op: 'address', field: name.toLowerCase(), value: arg('a string') };
    case 'SUBJECT':
      return { op: 'header', field: 'subject', value: arg('a string') };
    case 'HEADER':
      return { op: 'header', field: arg('a field name').toLowerCase(), value: arg('a string') };
    case 'BODY':
    case 'TEXT':
      return { op: name.toLowerCase() as 'body' | 'text', needle: new Needle(arg('a string')) };
    case 'UID':
      return { op: 'uid', set: parseSequenceSet(arg('a UID set')) };
    case 'NOT':
      return { op: 'not', key: parseKey(r, depth + 1) };
    case 'OR':
      return { op: 'or', a: parseKey(r, depth + 1), b: parseKey(r, depth + 1) };
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: MODSEQ ["entry-name" entry-type] modseq; the entry is about metadata we do not keep.
      if (r.tokens[r.at]?.type === 'string') r.at += 2;
      return { op: 'modseq', modseq: number('a MODSEQ') };
    }
    default:
      if (/^[\d*]/.test(word)) return { op: 'seq', set: parseSequenceSet(word) };
      throw new ImapSyntaxError(`unknown search key ${word}: use ${USAGE}`);
  }
}

/** True if the key asks for MODSEQ: the answer then ends with (MODSEQ highest). */
export function usesModseq(key: SearchKey): boolean {
  if (key.op === 'modseq') return true;
  if (key.op === 'and') return key.keys.some(usesModseq);
  if (key.op === 'or') return usesModseq(key.a) || usesModseq(key.b);
  return key.op === 'not' && usesModseq(key.key);
}

/**
 * What a message offers to the keys, read only when a key needs it. Its bytes are read into a
 * buffer used again for later messages: they are looked at while its batch is, never kept.
 */
class Candidate {
  private header: Promise<Buffer> | null = null;
  private bytes: Promise<Buffer> | null = null;

  constructor(
    readonly message: ViewMessage,
    readonly seq: number,
    private readonly loader: MessageLoader,
    private readonly readBuffer: () => Buffer,
  ) {}

  headerBytes(): Promise<Buffer> {
    this.header ??= this.loader.header(this.message).then((cached) => cached.header);
    return this.header;
  }

  /**
   * The day of the Date: header, for SENTBEFORE / SENTON / SENTSINCE (RFC 3501 §6.4.4). Without a
   * Date: header that can be read, the internal date stands in, as RFC 5256 §2.2 has SORT do.
   */
  async sentDay(): Promise<number> {
    const date = fieldValue(parseMime(await this.headerBytes()).header, 'date');
    return (date === undefined ? null : sentDayOf(date)) ?? dayOf(this.message.internalDate);
  }

  allBytes(): Promise<Buffer> {
    this.bytes ??= this.loader.bytes(this.message, this.readBuffer());
    return this.bytes;
  }
}

/** True if some key must read a message (its header or its bytes), not only what the view holds. */
export function readsMessages(key: SearchKey): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.some(readsMessages);
    case 'or':
      return readsMessages(key.a) || readsMessages(key.b);
    case 'not':
      return readsMessages(key.key);
    case 'date':
      return key.sent;
    case 'header':
    case 'address':
    case 'body':
    case 'text':
      return true;
    default:
      return false;
  }
}

/** The messages of the view that match, in order. */
export async function search(
  view: MailboxView,
  key: SearchKey,
  loader: MessageLoader,
): Promise<ViewMessage[]> {
  const largestUid = view.messages.at(-1)?.uid ?? 0;
  // SEARCH UNSEEN, FLAGGED, UID 100:*, SINCE...: the view holds all it takes. One plain loop, as
  // Dovecot answers these from its index, rather than a promise per message (10,000 of them).
  if (!readsMessages(key)) {
    const found: ViewMessage[] = [];
    view.messages.forEach((m, i) => {
      if (!view.isExpunged(m.uid) && known(key, m, i + 1, view, largestUid)) found.push(m);
    });
    return found;
  }
  const found: ViewMessage[] = [];
  const buffers = new ReadBuffers();
  const candidates = view.messages
    .map((message, i) => ({ message, seq: i + 1 }))
    .filter(({ message }) => !view.isExpunged(message.uid))
    .map(({ message, seq }, n) => new Candidate(message, seq, loader, () => buffers.of(n)));
  await inBatches(
    candidates,
    (c) => matches(key, c, view, largestUid),
    async (batch, results) => {
      for (const [j, c] of batch.entries()) if (results[j]) found.push(c.message);
    },
  );
  return found;
}

/** A flag's name compared without regard to case (RFC 3501 §9: flags are atoms, case-insensitive). */
function hasFlag(m: ViewMessage, flag: string): boolean {
  for (const f of m.flags) if (f === flag || f.toLowerCase() === flag.toLowerCase()) return true;
  return false;
}

/** A key answered from what the view holds (no reading): see readsMessages. */
function known(key: SearchKey, m: ViewMessage, seq: number, view: MailboxView, largestUid: number): boolean {
  switch (key.op) {
    case 'and':
      return key.keys.every((k) => known(k, m, seq, view, largestUid));
    case 'or':
      return known(key.a, m, seq, view, largestUid) || known(key.b, m, seq, view, largestUid);
    case 'not':
      return !known(key.key, m, seq, view, largestUid);
    case 'all':
      return true;
    case 'flag':
      return hasFlag(m, key.flag) === key.set;
    case 'recent':
      return view.recent.has(m.uid);
    case 'new':
      return view.recent.has(m.uid) && !m.flags.includes('\\Seen');
    case 'old':
      return !view.recent.has(m.uid);
    case 'seq':
      return inSequenceSet(key.set, seq, view.exists);
    case 'uid':
      return inSequenceSet(key.set, m.uid, largestUid);
    case 'size':
      return key.larger ? m.size > key.size : m.size < key.size;
    case 'modseq':
      return m.modseq >= key.modseq;
    case 'date': {
      const day = dayOf(m.internalDate);
      if (key.compare === 'before') return day < key.day;
      return key.compare === 'on' ? day === key.day : day >= key.day;
    }
    default:
      throw new Error(`search key ${key.op} reads the message`);
  }
}

async function matches(
  key: SearchKey,
  c: Candidate,
  view: MailboxView,
  largestUid: number,
): Promise<boolean> {
  const m = c.message;
  switch (key.op) {
    case 'and':
      for (const k of key.keys) if (!(await matches(k, c, view, largestUid))) return false;
      return true;
    case 'or':
      return (await matches(key.a, c, view, largestUid)) || matches(key.b, c, view, largestUid);
    case 'not':
      return !(await matches(key.key, c, view, largestUid));
    case 'date': {
      if (!key.sent) return known(key, m, c.seq, view, largestUid);
      const day = await c.sentDay();
      if (key.compare === 'before') return day < key.day;
      return key.compare === 'on' ? day === key.day : day >= key.day;
    }
    case 'header': {
      const needle = key.value.toLowerCase();
      const header = parseMime(await c.headerBytes()).header;
      return header.some(
        (f) => f.key === key.field && decodeHeaderValue(f.value).toLowerCase().includes(needle),
      );
    }
    case 'address': {
      const needle = key.value.toLowerCase();
      const header = parseMime(await c.headerBytes()).header;
      return header.some(
        (f) => f.key === key.field && addressTexts(f.value).some((t) => t.toLowerCase().includes(needle)),
      );
    }
    case 'body':
    case 'text': {
      const bytes = await c.allBytes();
      return containsText(bytes, parseMime(bytes), key.needle, key.op === 'text');
    }
    default:
      return known(key, m, c.seq, view, largestUid);
  }
}

/**
 * What FROM, TO, CC and BCC look in: "the envelope structure's FROM field" (RFC 3501 §6.4.4), so
 * each address's display name (its RFC 2047 words decoded) and its mailbox@host, and a group's
 * name; not the comments and quoting of the header as written.
 */
function addressTexts(value: string): string[] {
  return parseAddressList(value).flatMap((a) => {
    const texts = a.name === null ? [] : [decodeHeaderValue(a.name)];
    if (a.mailbox !== null) texts.push(a.host === null ? a.mailbox : `${a.mailbox}@${a.host}`);
    return texts;
  });
}
