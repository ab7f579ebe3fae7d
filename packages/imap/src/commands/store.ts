import { parseFlags } from '../flags.js';
import { messagesOf } from '../message-set.js';
import type { Args } from '../parser/args.js';
import { formatSequenceSet, parseSequenceSet, type SequenceSet } from '../parser/sequence-set.js';
import { command, no, ok, SELECTED } from './command.js';

const USAGE = 'STORE message-set [(UNCHANGEDSINCE modseq)] +FLAGS|-FLAGS|FLAGS[.SILENT] (flags)';

interface StoreArgs {
  set: SequenceSet;
  unchangedSince: number | null;
  operation: 'add' | 'remove' | 'replace';
  silent: boolean;
  flags: string[];
}

function parseStore(args: Args): StoreArgs {
  const set = parseSequenceSet(args.atom('message set'));
  // RFC 7162 §3.1.3: STORE set (UNCHANGEDSINCE modseq) ...
  const unchangedSince = args.modifier('STORE', 'UNCHANGEDSINCE');
  const item = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(args.atom('+FLAGS, -FLAGS or FLAGS'));
  if (!item) throw args.error('say +FLAGS, -FLAGS or FLAGS (with .SILENT for no answer)');
  const rest = args.rest();
  const tokens = rest.length === 1 && rest[0]!.type === 'list' ? rest[0]!.items : rest;
  const flags = parseFlags(tokens, USAGE);
  const operation = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'replace';
  return { set, unchangedSince, operation, silent: item[2] !== undefined, flags };
}

/**
 * RFC 3501 §6.4.6: STORE changes flags, and answers with each message's flags now (unless
 * .SILENT). With UNCHANGEDSINCE (RFC 7162 §3.1.3) a message changed since that MODSEQ is left
 * alone and named in [MODIFIED ...], so two clients do not overwrite each other.
 */
export default command({
  name: 'STORE',
  states: SELECTED,
  usage: USAGE,
  uidForm: true,
  bySequence: true,
  parse: parseStore,
  async run({ session, uid }, { set, unchangedSince, operation, silent, flags }) {
    const view = session.selected!;
    if (view.readOnly) return no('the mailbox is read-only (EXAMINE): flags cannot change', 'READ-ONLY');
    if (unchangedSince !== null) session.enableCondstore();
    const condstore = session.enabled.has('CONDSTORE');
    const chosen = messagesOf(view, set, uid).filter((m) => !view.isExpunged(m.uid));
    const modified = unchangedSince === null ? [] : chosen.filter((m) => m.modseq > unchangedSince);
    const targets = chosen.filter((m) => !modified.includes(m));
    try {
      await view.setFlags(
        targets.map((m) => m.uid),
        operation,
        flags,
      );
    } catch (err) {
      return no((err as Error).message);
    }
    for (const target of targets) {
      // The view holds the message as it is now (the objects are replaced, never modified).
      const message = view.byUid(target.uid) ?? target;
      for (const line of view.newFlagsBefore(message)) session.out.untagged(line);
      // .SILENT skips the answer, except for the MODSEQ a CONDSTORE client needs (RFC 7162 §3.1.3).
      if (silent && unchangedSince === null) continue;
      const items = [`FLAGS ${view.flagList(message)}`];
      if (silent) items.length = 0;
      if (uid || condstore) items.unshift(`UID ${message.uid}`);
      if (condstore) items.push(`MODSEQ (${message.modseq})`);
      session.out.untagged(`${view.seqOf(message.uid)} FETCH (${items.join(' ')})`);
    }
    if (modified.length) {
      const numbers = modified.map((m) => (uid ? m.uid : view.seqOf(m.uid)));
      return ok(
        'STORE completed, except for messages changed since',
        `MODIFIED ${formatSequenceSet(numbers)}`,
      );
    }
    return ok('STORE completed');
  },
});
