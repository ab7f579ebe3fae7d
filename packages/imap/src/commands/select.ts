import type { Args } from '../parser/args.js';
import {
  AUTHENTICATED,
  type CommandContext,
  type Completion,
  command,
  no,
  ok,
  refuseName,
} from './command.js';

export interface SelectArgs {
  name: string;
  condstore: boolean;
}

export function parseSelect(args: Args): SelectArgs {
  const name = args.astring('mailbox');
  // RFC 7162 §3.1.8: SELECT mailbox (CONDSTORE).
  const options = args.optionalList() ?? [];
  args.end();
  return { name, condstore: options.some((o) => o.type === 'atom' && o.value.toUpperCase() === 'CONDSTORE') };
}

/**
 * RFC 3501 §6.3.1: SELECT opens a mailbox: the client learns how many messages it has (EXISTS),
 * how many are new to it (RECENT), the flags, UIDVALIDITY and UIDNEXT (§2.3.1.1), and the
 * HIGHESTMODSEQ (RFC 7162 §3.1.2.1). EXAMINE (§6.3.2) does the same, read-only.
 */
export async function openMailbox(
  { session }: CommandContext,
  { name, condstore }: SelectArgs,
  readOnly: boolean,
): Promise<Completion> {
  const refused = refuseName(name);
  if (refused) {
    session.deselect();
    return refused;
  }
  // SELECT's own answer carries HIGHESTMODSEQ (RFC 7162 §3.1.2.1), whether CONDSTORE was on or not.
  if (condstore) session.enabled.add('CONDSTORE');
  const view = await session.select(name, readOnly);
  if (!view) return no(`no mailbox ${name}: LIST "" "*" shows the mailboxes`, 'NONEXISTENT');
  const { out } = session;
  for (const line of view.flagsResponses()) out.untagged(line);
  out.untagged(`${view.exists} EXISTS`);
  out.untagged(`${view.recent.size} RECENT`);
  const unseen = view.messages.findIndex((m) => !m.flags.includes('\\Seen'));
  if (unseen !== -1) out.untagged(`OK [UNSEEN ${unseen + 1}] first message not seen`);
  out.untagged(`OK [UIDVALIDITY ${view.uidValidity}] UIDs valid`);
  out.untagged(`OK [UIDNEXT ${view.uidNextAtSelect}] predicted next UID`);
  out.untagged(`OK [HIGHESTMODSEQ ${view.highestModseq}] highest modification sequence`);
  return ok(`${readOnly ? 'EXAMINE' : 'SELECT'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

export default command({
  name: 'SELECT',
  states: AUTHENTICATED,
  usage: 'SELECT mailbox [(CONDSTORE)]',
  parse: parseSelect,
  run: (context, args) => openMailbox(context, args, false),
});
