import { formatDateTime } from '../dates.js';
import type { CachedHeader } from '../header-cache.js';
import type { MailboxView, ViewMessage } from '../mailbox-view.js';
import { BATCH, BatchMemory, inBatches, MessageLoader } from '../message-loader.js';
import { sequenceNumbersOf } from '../message-set.js';
import { bodyStructure } from '../mime/bodystructure.js';
import { envelope } from '../mime/envelope.js';
import {
  extractSection,
  headerOnly,
  messageFieldsOnly,
  parseSection,
  partialOf,
  type Section,
  sectionName,
} from '../mime/section.js';
import { type MimeEntity, parseMime } from '../mime/structure.js';
import type { Args } from '../parser/args.js';
import { parseSequenceSet, type SequenceSet } from '../parser/sequence-set.js';
import { ImapSyntaxError, type Token } from '../parser/tokenizer.js';
import type { Part } from '../response.js';
import { command, ok, SELECTED } from './command.js';

const USAGE =
  'FETCH message-set (UID FLAGS ENVELOPE BODY.PEEK[section]<start.length> ...) [(CHANGEDSINCE modseq)]';

/**
 * Whole messages up to SYNC_READ_MESSAGE bytes are read at once on the event loop's thread (a text
 * message, from the page cache: a few microseconds), SYNC_READ_BYTES at most per batch; larger ones,
 * and the rest, through the thread pool. Three trips to the pool per message (open, read, close)
 * made a FETCH of 100 whole bodies three times Dovecot's time (issue #20). The session lets other
 * connections run between batches (Session.pace), so this bounds how long a FETCH holds the loop.
 */
const SYNC_READ_MESSAGE = 64 * 1024;
const SYNC_READ_BYTES = 512 * 1024;

/** What an item must read of a message: nothing (the view has it), its header, or all its bytes. */
type Need = 'none' | 'header' | 'all';

/**
 * What an item's writer gets: one message, and what was read of it. One object for the whole
 * FETCH, pointed at each message in turn (a FETCH 1:* makes no object per message for it).
 */
class Fetched {
  seq = 0;
  message!: ViewMessage;
  /** As FETCH shows them, `(\Seen \Recent)`. */
  flags = '';
  /** The header (need 'header') or the whole message (need 'all'); null if the items need nothing. */
  bytes: Buffer | null = null;
  /** What was loaded: a cached header keeps its HEADER.FIELDS block (see MessageLoader). */
  source: Exclude<Loaded, undefined> = null;
  private root: MimeEntity | null = null;

  constructor(readonly loader: MessageLoader) {}

  at(seq: number, message: ViewMessage, flags: string, source: Exclude<Loaded, undefined>): this {
    this.seq = seq;
    this.message = message;
    this.flags = flags;
    this.source = source;
    this.bytes = source === null ? null : Buffer.isBuffer(source) ? source : source.header;
    this.root = null;
    return this;
  }

  /** The MIME structure of `bytes`, parsed at most once per message, when an item needs it. */
  mime(): MimeEntity {
    this.root ??= parseMime(this.bytes!);
    return this.root;
  }
}

/**
 * A FETCH data item (RFC 3501 §6.4.5, MODSEQ from RFC 7162 §3.1.4), in the shape of Dovecot's
 * imap_fetch_default_handlers[]: each declares what it must read and whether asking for it sets
 * \Seen, and writes its part of the answer. Adding an item is adding an entry to FETCH_ITEMS.
 */
interface FetchItem {
  /** As the answer names it: `UID`, `BODY[HEADER.FIELDS (FROM)]<0>` (RFC 3501 §7.4.2). */
  name: string;
  need: Need;
  /** BODY[...] without .PEEK, RFC822 and RFC822.TEXT set \Seen in a read-write mailbox. */
  setsSeen: boolean;
  /** The item in the answer: text alone (`UID 4`), or text and literals or structures. */
  write(m: Fetched): string | Part[];
}

/** A literal, or "" for nothing (a part that does not exist). */
function bytesPart(bytes: Buffer): Part {
  return bytes.length === 0 ? '""' : bytes;
}

const item = (name: string, need: Need, write: FetchItem['write'], setsSeen = false): FetchItem => ({
  name,
  need,
  setsSeen,
  write,
});

/** The items named by a word alone. */
const FETCH_ITEMS: Record<string, FetchItem> = {
  UID: item('UID', 'none', (m) => `UID ${m.message.uid}`),
  FLAGS: item('FLAGS', 'none', (m) => `FLAGS ${m.flags}`),
  INTERNALDATE: item(
    'INTERNALDATE',
    'none',
    (m) => `INTERNALDATE "${formatDateTime(m.message.internalDate)}"`,
  ),
  'RFC822.SIZE': item('RFC822.SIZE', 'none', (m) => `RFC822.SIZE ${m.message.size}`),
  MODSEQ: item('MODSEQ', 'none', (m) => `MODSEQ (${m.message.modseq})`),
  ENVELOPE: item('ENVELOPE', 'header', (m) => ['ENVELOPE ', ...envelope(m.mime().header)]),
  BODY: item('BODY', 'all', (m) => ['BODY ', ...bodyStructure(m.bytes!, m.mime(), false)]),
  BODYSTRUCTURE: item('BODYSTRUCTURE', 'all', (m) => [
    'BODYSTRUCTURE ',
    ...bodyStructure(m.bytes!, m.mime(), true),
  ]),
  'RFC822.HEADER': item('RFC822.HEADER', 'header', (m) => [
    'RFC822.HEADER ',
    bytesPart(m.bytes!.subarray(0, m.mime().bodyStart)),
  ]),
  RFC822: item('RFC822', 'all', (m) => ['RFC822 ', bytesPart(m.bytes!)], true),
  'RFC822.TEXT': item(
    'RFC822.TEXT',
    'all',
    (m) => ['RFC822.TEXT ', bytesPart(m.bytes!.subarray(m.mime().bodyStart))],
    true,
  ),
};

/** BODY[section]<partial> and BODY.PEEK[...]: an item made for the section asked. */
function sectionItem(section: Section, peek: boolean): FetchItem {
  const name = `BODY${sectionName(section)}`;
  // For HEADER.FIELDS of the message itself: the name without the partial, under which the
  // header cache keeps the block beside the header.
  const cacheName = messageFieldsOnly(section) ? sectionName({ ...section, partial: undefined }) : null;
  return item(
    name,
    headerOnly(section) ? 'header' : 'all',
    (m) => {
      // A cached header keeps the HEADER.FIELDS block made from it last time: a client's next
      // sync is a lookup, not a walk through every header.
      const whole =
        cacheName !== null && m.source !== null && !Buffer.isBuffer(m.source)
          ? m.loader.headerFields(m.source, section, cacheName)
          : null;
      const bytes = whole ? partialOf(whole, section) : extractSection(m.bytes!, () => m.mime(), section);
      return [`${name} `, bytesPart(bytes)];
    },
    !peek,
  );
}

/** RFC 3501 §6.4.5: the macros, each a list of items. */
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

interface FetchArgs {
  set: SequenceSet;
  items: FetchItem[];
  changedSince: number | null;
}

function parseItem(word: string): FetchItem {
  const simple = FETCH_ITEMS[word.toUpperCase()];
  if (simple) return simple;
  const match = /^BODY(\.PEEK)?\[([^\]]*)\](<[^>]*>)?$/i.exec(word);
  if (!match) throw new ImapSyntaxError(`unknown FETCH item ${word}: use ${USAGE}`);
  return sectionItem(parseSection(match[2]!, match[3]), match[1] !== undefined);
}

const asks = (items: FetchItem[], name: string) => items.some((i) => i.name === name);

function parseFetch(args: Args, { uid }: { uid: boolean }): FetchArgs {
  const set = parseSequenceSet(args.atom('message set'));
  const first = args.any('items');
  const words = (first.type === 'list' ? first.items : [first]).map((t: Token) => {
    if (t.type !== 'atom') throw args.error('FETCH items are words such as FLAGS or BODY.PEEK[HEADER]');
    return t.value;
  });
  const expanded =
    words.length === 1 && MACROS[words[0]!.toUpperCase()] ? MACROS[words[0]!.toUpperCase()]! : words;
  const items = expanded.map(parseItem);
  // RFC 3501 §6.4.8: UID FETCH answers with the UID of each message, asked or not.
  if (uid && !asks(items, 'UID')) items.unshift(FETCH_ITEMS.UID!);
  // RFC 7162 §3.1.4: FETCH set items (CHANGEDSINCE modseq), whose answer carries MODSEQ.
  const changedSince = args.modifier('FETCH', 'CHANGEDSINCE');
  if (changedSince !== null && !asks(items, 'MODSEQ')) items.push(FETCH_ITEMS.MODSEQ!);
  args.end();
  return { set, items, changedSince };
}

/** What must be read from disk for these items: the most any of them needs. */
function needs(items: FetchItem[]): Need {
  let need: Need = 'none';
  for (const { need: n } of items) if (n === 'all' || (n === 'header' && need === 'none')) need = n;
  return need;
}

/**
 * What FETCH reads of a message: nothing (null), its header (from the header cache, with the
 * HEADER.FIELDS block made from it last time), or all its bytes; undefined if it is gone.
 */
type Loaded = null | CachedHeader | Buffer | undefined;

/**
 * RFC 3501 §6.4.5 FETCH: data of each message named. BODY[...] without .PEEK, RFC822 and
 * RFC822.TEXT set \Seen (in a read-write mailbox), and the answer then carries the new FLAGS.
 */
export default command({
  name: 'FETCH',
  states: SELECTED,
  usage: USAGE,
  uidForm: true,
  bySequence: true,
  parse: parseFetch,
  async run({ session, uid }, { set, items, changedSince }) {
    const view = session.selected!;
    if (changedSince !== null || asks(items, 'MODSEQ')) session.enableCondstore();
    // Sequence numbers hold still while FETCH runs (no EXPUNGE is told meanwhile, RFC 3501 §7.4.1),
    // and the view holds each message as it is now (with the \Seen set below, say).
    const at = (seq: number) => view.messages[seq - 1]!;
    const named = sequenceNumbersOf(view, set, uid);
    let seqs = named.filter((seq) => !view.isExpunged(at(seq).uid));
    // Named, but expunged by another session (or process) before the client was told.
    let gone = named.length - seqs.length;
    if (changedSince !== null) seqs = seqs.filter((seq) => at(seq).modseq > changedSince);
    const seenNow =
      !view.readOnly && items.some((i) => i.setsSeen) ? await setSeen(view, seqs.map(at)) : NONE;
    const asksFlags = asks(items, 'FLAGS');
    const condstore = session.enabled.has('CONDSTORE');
    const need = needs(items);
    const loader = new MessageLoader(view.folder, session.server.headerCache);
    const fetched = new Fetched(loader);
    // Bytes read at once (without the thread pool) in the batch being loaded: see SYNC_READ_BYTES.
    let readNow = { batch: -1, bytes: 0 };
    // Small messages are read into memory used again batch after batch (see BatchMemory).
    const memory = new BatchMemory(SYNC_READ_BYTES + BATCH);
    const load = (seq: number, batch: number): Loaded | Promise<Loaded> => {
      if (need === 'none') return null;
      if (need === 'header') {
        // Headers in the cache are taken at once: a batch waits for the disk only if it must.
        const hit = loader.cachedHeader(at(seq));
        if (hit) return hit;
      }
      if (need === 'all') {
        if (readNow.batch !== batch) readNow = { batch, bytes: 0 };
        const room = Math.min(SYNC_READ_MESSAGE, SYNC_READ_BYTES - readNow.bytes);
        const { size } = at(seq);
        const bytes = size <= room ? loader.bytesNow(at(seq), room, memory.take(batch, size)) : undefined;
        if (bytes) {
          readNow.bytes += bytes.length;
          return bytes;
        }
      }
      return (need === 'all' ? loader.bytes(at(seq)) : loader.header(at(seq))).catch(() => undefined);
    };
    const answer = async (batch: number[], loaded: Loaded[]) => {
      batch.forEach((seq, i) => {
        const source = loaded[i];
        if (source === undefined) {
          gone++;
          return;
        }
        const message = at(seq);
        const flags = view.flagList(message);
        const more = seenNow.has(message.uid) ? seenItems(message, items, flags, condstore) : NO_MORE;
        if (asksFlags || more.length)
          for (const line of view.newFlagsBefore(message)) session.out.untagged(line);
        session.out.untagged(...fetchResponse(fetched.at(seq, message, flags, source), items, more));
      });
      await session.out.drained();
    };
    try {
      await inBatches(seqs, load, answer);
    } finally {
      memory.release();
    }
    // RFC 5530 §3 EXPUNGEISSUED: someone else expunged, and a NOOP will tell. The answer is
    // complete for what still exists, so the command is OK even when nothing named is left
    // (RFC 2180 §4.1.1 lets a server leave out the messages gone). Dovecot never answers NO to a
    // FETCH either, and conformance suites count a NO to FETCH as a failed command. The EXPUNGE
    // responses follow at the next moment they are allowed (RFC 3501 §7.4.1).
    if (gone === 0) return ok('FETCH completed');
    return {
      status: 'OK',
      text: `${gone} of the messages named were expunged meanwhile`,
      code: 'EXPUNGEISSUED',
    };
  },
});

const NONE: ReadonlySet<number> = new Set();
const NO_MORE: string[] = [];

/**
 * Sets \Seen on the messages that lack it; returns the UIDs whose flags changed. All at once,
 * before a message is read: a file renamed (flags are in Maildir file names) while being read
 * would have to be looked for again.
 */
async function setSeen(view: MailboxView, messages: ViewMessage[]): Promise<ReadonlySet<number>> {
  const unseen = messages.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
  if (unseen.length === 0) return NONE;
  const changed = await view.setFlags(unseen, 'add', ['\\Seen']);
  return new Set(changed.map((c) => c.uid));
}

/**
 * What a FETCH that just set \Seen says beyond the items asked: the new FLAGS (RFC 3501 §6.4.5),
 * and for a CONDSTORE client the UID and MODSEQ every FETCH caused by a flag change carries
 * (RFC 7162 §3.1).
 */
function seenItems(message: ViewMessage, items: FetchItem[], flags: string, condstore: boolean): string[] {
  const more: string[] = [];
  if (!asks(items, 'FLAGS')) more.push(`FLAGS ${flags}`);
  if (condstore && !asks(items, 'UID')) more.push(`UID ${message.uid}`);
  if (condstore && !asks(items, 'MODSEQ')) more.push(`MODSEQ (${message.modseq})`);
  return more;
}

/**
 * The answer for one message, `12 FETCH (UID 4 FLAGS (\Seen) BODY[] {310} ...)`: its data items in
 * the order asked, each written by its FETCH_ITEMS entry, then `more` (seenItems) if \Seen was
 * just set. Text is gathered into one string until something other than text comes (a literal, a
 * structure), so the answer to a client's poll, `FETCH 1:* (UID FLAGS)`, is one string per message.
 */
function fetchResponse(m: Fetched, items: FetchItem[], more: string[]): Part[] {
  const parts: Part[] = [];
  let text = `${m.seq} FETCH (`;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) text += ' ';
    const written = items[i]!.write(m);
    if (typeof written === 'string') text += written;
    else {
      // The text so far, then parts that are not all text.
      parts.push(text, ...written);
      text = '';
    }
  }
  if (more.length) text += `${items.length > 0 ? ' ' : ''}${more.join(' ')}`;
  parts.push(`${text})`);
  return parts;
}
