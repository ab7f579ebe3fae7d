import { formatDateTime } from '../dates.js';
import type { CachedHeader } from '../header-cache.js';
import type { MailboxView, ViewMessage } from '../mailbox-view.js';
import { inBatches, MessageLoader } from '../message-loader.js';
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

/** What FETCH can ask for (RFC 3501 §6.4.5, MODSEQ from RFC 7162 §3.1.4). */
type Item =
  | {
      kind:
        | 'UID'
        | 'FLAGS'
        | 'INTERNALDATE'
        | 'RFC822.SIZE'
        | 'ENVELOPE'
        | 'BODY'
        | 'BODYSTRUCTURE'
        | 'MODSEQ';
    }
  | { kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | {
      kind: 'section';
      section: Section;
      peek: boolean;
      /** `BODY[HEADER.FIELDS (FROM)]<0>`, as the answer names it (RFC 3501 §7.4.2). */
      name: string;
      /**
       * For HEADER.FIELDS of the message itself: the name without the partial, under which the
       * header cache keeps the block beside the header.
       */
      cacheName: string | null;
    };

/** RFC 3501 §6.4.5: the macros, each a list of items. */
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SIMPLE = [
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
];

interface FetchArgs {
  set: SequenceSet;
  items: Item[];
  changedSince: number | null;
}

function parseItem(word: string): Item {
  const upper = word.toUpperCase();
  if (SIMPLE.includes(upper)) return { kind: upper } as Item;
  const match = /^BODY(\.PEEK)?\[([^\]]*)\](<[^>]*>)?$/i.exec(word);
  if (!match) throw new ImapSyntaxError(`unknown FETCH item ${word}: use ${USAGE}`);
  const section = parseSection(match[2]!, match[3]);
  return {
    kind: 'section',
    section,
    peek: match[1] !== undefined,
    name: `BODY${sectionName(section)}`,
    cacheName: messageFieldsOnly(section) ? sectionName({ ...section, partial: undefined }) : null,
  };
}

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
  if (uid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
  let changedSince: number | null = null;
  const modifiers = args.optionalList();
  if (modifiers) {
    const [name, value] = modifiers;
    if (
      name?.type !== 'atom' ||
      name.value.toUpperCase() !== 'CHANGEDSINCE' ||
      value?.type !== 'atom' ||
      !/^\d+$/.test(value.value)
    )
      throw args.error('the only FETCH modifier is (CHANGEDSINCE modseq)');
    changedSince = Number(value.value);
    if (!items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
  }
  args.end();
  return { set, items, changedSince };
}

/** What must be read from disk for these items: nothing, the header, or the whole message. */
function needs(items: Item[]): 'none' | 'header' | 'all' {
  let need: 'none' | 'header' | 'all' = 'none';
  for (const item of items) {
    if (
      item.kind === 'ENVELOPE' ||
      item.kind === 'RFC822.HEADER' ||
      (item.kind === 'section' && headerOnly(item.section))
    ) {
      if (need === 'none') need = 'header';
    } else if (['BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.TEXT', 'section'].includes(item.kind)) {
      need = 'all';
    }
  }
  return need;
}

/** A literal, or "" for nothing (a part that does not exist). */
function bytesPart(bytes: Buffer): Part {
  return bytes.length === 0 ? '""' : bytes;
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
    if (changedSince !== null || items.some((i) => i.kind === 'MODSEQ')) session.enableCondstore();
    // Sequence numbers hold still while FETCH runs (no EXPUNGE is told meanwhile, RFC 3501 §7.4.1),
    // and the view holds each message as it is now (with the \Seen set below, say).
    const at = (seq: number) => view.messages[seq - 1]!;
    const named = sequenceNumbersOf(view, set, uid);
    let seqs = named.filter((seq) => !view.isExpunged(at(seq).uid));
    // Named, but expunged by another session (or process) before the client was told.
    let gone = named.length - seqs.length;
    if (changedSince !== null) seqs = seqs.filter((seq) => at(seq).modseq > changedSince);
    const seenNow = await setSeen(view, seqs.map(at), items);
    const asksFlags = items.some((i) => i.kind === 'FLAGS');
    const condstore = session.enabled.has('CONDSTORE');
    const need = needs(items);
    const loader = new MessageLoader(view.folder, session.server.headerCache);
    const load = (seq: number): Loaded | Promise<Loaded> => {
      if (need === 'none') return null;
      if (need === 'header') {
        // Headers in the cache are taken at once: a batch waits for the disk only if it must.
        const hit = loader.cachedHeader(at(seq));
        if (hit) return hit;
      }
      return (need === 'all' ? loader.bytes(at(seq)) : loader.header(at(seq))).catch(() => undefined);
    };
    await inBatches(seqs, load, async (batch, loaded) => {
      batch.forEach((seq, i) => {
        const source = loaded[i];
        if (source === undefined) {
          gone++;
          return;
        }
        const message = at(seq);
        const flags = view.flagList(message);
        const more = seenNow.has(message.uid) ? seenItems(message, items, flags, condstore) : [];
        if (asksFlags || more.length)
          for (const line of view.newFlagsBefore(message)) session.out.untagged(line);
        session.out.untagged(...fetchResponse(seq, message, items, source, loader, flags, more));
      });
      await session.out.drained();
    });
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

/**
 * Sets \Seen where the items ask it; returns the UIDs whose flags changed. All at once, before a
 * message is read: a file renamed (flags are in Maildir file names) while being read would have
 * to be looked for again.
 */
async function setSeen(view: MailboxView, messages: ViewMessage[], items: Item[]): Promise<Set<number>> {
  const setsSeen =
    !view.readOnly &&
    items.some((i) => (i.kind === 'section' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
  const unseen = setsSeen ? messages.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid) : [];
  if (unseen.length === 0) return new Set();
  const changed = await view.folder.setFlags(unseen, 'add', ['\\Seen']);
  view.stored(changed);
  return new Set(changed.map((c) => c.uid));
}

/**
 * What a FETCH that just set \Seen says beyond the items asked: the new FLAGS (RFC 3501 §6.4.5),
 * and for a CONDSTORE client the UID and MODSEQ every FETCH caused by a flag change carries
 * (RFC 7162 §3.1).
 */
function seenItems(message: ViewMessage, items: Item[], flags: string, condstore: boolean): string[] {
  const asks = (kind: Item['kind']) => items.some((i) => i.kind === kind);
  const more: string[] = [];
  if (!asks('FLAGS')) more.push(`FLAGS ${flags}`);
  if (condstore && !asks('UID')) more.push(`UID ${message.uid}`);
  if (condstore && !asks('MODSEQ')) more.push(`MODSEQ (${message.modseq})`);
  return more;
}

/**
 * The answer for one message, `12 FETCH (UID 4 FLAGS (\Seen) BODY[] {310} ...)`: its data items in
 * the order asked, then `more` (seenItems) if \Seen was just set. Text is gathered into one
 * string until something other than text comes (a literal, a structure), so the answer to a
 * client's poll, `FETCH 1:* (UID FLAGS)`, is one string per message.
 */
function fetchResponse(
  seq: number,
  message: ViewMessage,
  items: Item[],
  source: Exclude<Loaded, undefined>,
  loader: MessageLoader,
  flags: string,
  more: string[],
): Part[] {
  const bytes = source === null ? null : Buffer.isBuffer(source) ? source : source.header;
  let root: MimeEntity | null = null;
  const mime = () => {
    root ??= parseMime(bytes!);
    return root;
  };
  const parts: Part[] = [];
  let text = `${seq} FETCH (`;
  /** The text so far, then parts that are not all text. */
  const put = (...more: Part[]) => {
    parts.push(text, ...more);
    text = '';
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (i > 0) text += ' ';
    switch (item.kind) {
      case 'UID':
        text += `UID ${message.uid}`;
        break;
      case 'FLAGS':
        text += `FLAGS ${flags}`;
        break;
      case 'INTERNALDATE':
        text += `INTERNALDATE "${formatDateTime(message.internalDate)}"`;
        break;
      case 'RFC822.SIZE':
        text += `RFC822.SIZE ${message.size}`;
        break;
      case 'MODSEQ':
        text += `MODSEQ (${message.modseq})`;
        break;
      case 'ENVELOPE':
        put('ENVELOPE ', ...envelope(mime().header));
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        put(`${item.kind} `, ...bodyStructure(bytes!, mime(), item.kind === 'BODYSTRUCTURE'));
        break;
      case 'RFC822':
        put('RFC822 ', bytesPart(bytes!));
        break;
      case 'RFC822.HEADER':
        put('RFC822.HEADER ', bytesPart(bytes!.subarray(0, mime().bodyStart)));
        break;
      case 'RFC822.TEXT':
        put('RFC822.TEXT ', bytesPart(bytes!.subarray(mime().bodyStart)));
        break;
      case 'section': {
        // A cached header keeps the HEADER.FIELDS block made from it last time: a client's next
        // sync is a lookup, not a walk through every header.
        const whole =
          item.cacheName !== null && source !== null && !Buffer.isBuffer(source)
            ? loader.headerFields(source, item.section, item.cacheName)
            : null;
        const section = whole ? partialOf(whole, item.section) : extractSection(bytes!, mime, item.section);
        put(`${item.name} `, bytesPart(section));
        break;
      }
    }
  }
  if (more.length) text += `${items.length > 0 ? ' ' : ''}${more.join(' ')}`;
  parts.push(`${text})`);
  return parts;
}
