import { formatDateTime } from '../dates.js';
import type { ViewMessage } from '../mailbox-view.js';
import { inBatches, MessageLoader } from '../message-loader.js';
import { messagesOf } from '../message-set.js';
import { bodyStructure } from '../mime/bodystructure.js';
import { envelope } from '../mime/envelope.js';
import { extractSection, headerOnly, parseSection, type Section, sectionName } from '../mime/section.js';
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
  | { kind: 'section'; section: Section; peek: boolean };

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
  return { kind: 'section', section: parseSection(match[2]!, match[3]), peek: match[1] !== undefined };
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
    if (changedSince !== null || items.some((i) => i.kind === 'MODSEQ')) session.enabled.add('CONDSTORE');
    let messages = messagesOf(view, set, uid).filter((m) => !view.isExpunged(m.uid));
    if (changedSince !== null) messages = messages.filter((m) => m.modseq > changedSince);
    const need = needs(items);
    const setsSeen =
      !view.readOnly &&
      items.some((i) => (i.kind === 'section' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
    const loader = new MessageLoader(view.folder, session.server.headerCache);
    /** The bytes the items need: none (null), the header, or all; undefined if the message is gone. */
    const load = (m: ViewMessage): Buffer | null | Promise<Buffer | undefined> => {
      if (need === 'none') return null;
      if (need === 'header') {
        const hit = loader.cachedHeader(m);
        if (hit) return hit;
      }
      return (need === 'all' ? loader.bytes(m) : loader.header(m)).catch(() => undefined);
    };
    let missing = 0;
    await inBatches(messages, async (batch) => {
      const seenNow = new Set<number>();
      if (setsSeen) {
        const unseen = batch.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
        if (unseen.length) {
          const changed = await view.folder.setFlags(unseen, 'add', ['\\Seen']);
          view.stored(changed);
          for (const c of changed) seenNow.add(c.uid);
        }
      }
      // Headers in the cache are taken at once: a batch waits for the disk only if it must.
      const direct = batch.map((m) => load(m));
      const loaded = direct.some((d) => d instanceof Promise)
        ? await Promise.all(direct)
        : (direct as (Buffer | null)[]);
      batch.forEach((asked, i) => {
        // After a \Seen set above, the view holds the message with its new flags.
        const message = seenNow.has(asked.uid) ? (view.byUid(asked.uid) ?? asked) : asked;
        const bytes = loaded[i];
        if (bytes === undefined) {
          missing++;
          return;
        }
        const withFlags = seenNow.has(message.uid) && !items.some((it) => it.kind === 'FLAGS');
        const parts = fetchItems(
          message,
          items,
          bytes,
          withFlags,
          session.selected === view ? view.flagsOf(message) : message.flags,
        );
        session.out.untagged(`${view.seqOf(message.uid)} FETCH `, ...parts);
      });
      await session.out.drained();
    });
    if (missing)
      return { status: 'NO', text: `${missing} messages were expunged meanwhile`, code: 'EXPUNGEISSUED' };
    return ok('FETCH completed');
  },
});

/** The data items of one message, in the order asked: `(UID 4 FLAGS (\Seen) BODY[] {310} ...)`. */
function fetchItems(
  message: ViewMessage,
  items: Item[],
  bytes: Buffer | null,
  addFlags: boolean,
  flags: string[],
): Part[] {
  let root: MimeEntity | null = null;
  const mime = () => {
    root ??= parseMime(bytes!);
    return root;
  };
  const out: Part[][] = [];
  for (const item of items) {
    switch (item.kind) {
      case 'UID':
        out.push([`UID ${message.uid}`]);
        break;
      case 'FLAGS':
        out.push([`FLAGS (${flags.join(' ')})`]);
        break;
      case 'INTERNALDATE':
        out.push([`INTERNALDATE "${formatDateTime(message.internalDate)}"`]);
        break;
      case 'RFC822.SIZE':
        out.push([`RFC822.SIZE ${message.size}`]);
        break;
      case 'MODSEQ':
        out.push([`MODSEQ (${message.modseq})`]);
        break;
      case 'ENVELOPE':
        out.push(['ENVELOPE ', ...envelope(mime().header)]);
        break;
      case 'BODY':
      case 'BODYSTRUCTURE':
        out.push([`${item.kind} `, ...bodyStructure(bytes!, mime(), item.kind === 'BODYSTRUCTURE')]);
        break;
      case 'RFC822':
        out.push(['RFC822 ', bytesPart(bytes!)]);
        break;
      case 'RFC822.HEADER':
        out.push(['RFC822.HEADER ', bytesPart(bytes!.subarray(0, mime().bodyStart))]);
        break;
      case 'RFC822.TEXT':
        out.push(['RFC822.TEXT ', bytesPart(bytes!.subarray(mime().bodyStart))]);
        break;
      case 'section':
        out.push([
          `BODY${sectionName(item.section)} `,
          bytesPart(extractSection(bytes!, mime, item.section)),
        ]);
        break;
    }
  }
  if (addFlags) out.push([`FLAGS (${flags.join(' ')})`]);
  const flat: Part[] = ['('];
  out.forEach((item, i) => {
    if (i > 0) flat.push(' ');
    flat.push(...item);
  });
  flat.push(')');
  return flat;
}
