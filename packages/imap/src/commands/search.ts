import type { ViewMessage } from '../mailbox-view.js';
import { MessageLoader } from '../message-loader.js';
import type { Args } from '../parser/args.js';
import { formatSequenceSet } from '../parser/sequence-set.js';
import { parseSearchKeys, type SearchKey, search, usesModseq } from '../search.js';
import { command, no, ok, SELECTED } from './command.js';

interface SearchArgs {
  /** ESEARCH return options (RFC 4731 §3.1), or null for the classic `* SEARCH` answer. */
  returns: string[] | null;
  charset: string | null;
  key: SearchKey;
}

const RETURN_OPTIONS = ['MIN', 'MAX', 'COUNT', 'ALL'];

function parseSearch(args: Args): SearchArgs {
  let returns: string[] | null = null;
  if (args.keyword('RETURN')) {
    returns = args.list('return options').map((t) => (t.type === 'atom' ? t.value.toUpperCase() : ''));
    const unknown = returns.find((r) => !RETURN_OPTIONS.includes(r));
    if (unknown !== undefined) throw args.error(`unknown RETURN option ${unknown}: use MIN, MAX, COUNT, ALL`);
    // RFC 4731 §3.1: RETURN () means RETURN (ALL).
    if (returns.length === 0) returns = ['ALL'];
  }
  const charset = args.keyword('CHARSET') ? args.astring('charset').toUpperCase() : null;
  return { returns, charset, key: parseSearchKeys(args.rest()) };
}

function highestModseq(messages: readonly ViewMessage[]): number {
  let highest = 0;
  for (const m of messages) if (m.modseq > highest) highest = m.modseq;
  return highest;
}

/**
 * The messages an ESEARCH answer reports, whose highest mod-sequence its MODSEQ gives (RFC 4731
 * §3.2): the MIN and/or MAX message when those are all it returns, else every message found.
 */
function reportedBy(returns: string[], found: ViewMessage[]): ViewMessage[] {
  if (!returns.every((r) => r === 'MIN' || r === 'MAX')) return found;
  return [
    ...(returns.includes('MIN') ? [found[0]!] : []),
    ...(returns.includes('MAX') ? [found.at(-1)!] : []),
  ];
}

/**
 * RFC 3501 §6.4.4 SEARCH: the messages matching every key. Text keys compare case-insensitively
 * with decoded headers and bodies. Answers `* SEARCH 2 5 7`, or with RETURN (RFC 4731 ESEARCH)
 * `* ESEARCH (TAG "a1") UID MIN 2 COUNT 3`.
 */
export default command({
  name: 'SEARCH',
  states: SELECTED,
  usage: 'SEARCH [RETURN (MIN MAX COUNT ALL)] [CHARSET UTF-8] key ...',
  uidForm: true,
  bySequence: true,
  parse: parseSearch,
  async run({ session, uid, tag }, { returns, charset, key }) {
    if (charset && !['UTF-8', 'US-ASCII'].includes(charset))
      return no(`charset ${charset} is not supported: use UTF-8`, 'BADCHARSET (UTF-8 US-ASCII)');
    const view = session.selected!;
    const modseq = usesModseq(key);
    if (modseq) session.enableCondstore();
    const found = await search(view, key, new MessageLoader(view.folder, session.server.headerCache));
    const numbers = found.map((m) => (uid ? m.uid : view.seqOf(m.uid)));
    if (!returns) {
      // RFC 7162 §3.1.5: the highest mod-sequence of the messages found.
      const tail = modseq && found.length ? ` (MODSEQ ${highestModseq(found)})` : '';
      session.out.untagged(['SEARCH', ...numbers].join(' ') + tail);
      return ok('SEARCH completed');
    }
    const data = [`ESEARCH (TAG "${tag}")`];
    if (uid) data.push('UID');
    if (numbers.length && returns.includes('MIN')) data.push(`MIN ${Math.min(...numbers)}`);
    if (numbers.length && returns.includes('MAX')) data.push(`MAX ${Math.max(...numbers)}`);
    if (returns.includes('COUNT')) data.push(`COUNT ${numbers.length}`);
    if (numbers.length && returns.includes('ALL')) data.push(`ALL ${formatSequenceSet(numbers)}`);
    if (modseq && found.length) data.push(`MODSEQ ${highestModseq(reportedBy(returns, found))}`);
    session.out.untagged(data.join(' '));
    return ok('SEARCH completed');
  },
});
