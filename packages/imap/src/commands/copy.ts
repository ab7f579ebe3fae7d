import { canonicalMailbox } from '../mailbox-name.js';
import { messagesOf } from '../message-set.js';
import type { Args } from '../parser/args.js';
import { formatSequenceSet, parseSequenceSet, type SequenceSet } from '../parser/sequence-set.js';
import type { Session } from '../session.js';
import { type Completion, command, no, ok, refuseName, SELECTED } from './command.js';

export interface CopyArgs {
  set: SequenceSet;
  name: string;
}

export function parseCopy(args: Args): CopyArgs {
  const set = parseSequenceSet(args.atom('message set'));
  const name = args.astring('mailbox');
  args.end();
  return { set, name };
}

/**
 * COPY and MOVE: the messages named go to a mailbox, and the answer names their new UIDs
 * (COPYUID, RFC 4315 §3). A target that does not exist gets NO [TRYCREATE] (RFC 3501 §6.4.7).
 * The target may be the selected mailbox itself: neither RFC 3501 §6.4.7 nor RFC 6851 forbids
 * it, so the copies get new UIDs there (the session hears of them as EXISTS) and a MOVE then
 * expunges the originals, as a MOVE to anywhere else does.
 * Copies count against the account's quota, a MOVE does not (see below and packages/mailstore,
 * "The quota").
 */
export async function transfer(
  session: Session,
  uid: boolean,
  { set, name }: CopyArgs,
  move: boolean,
): Promise<Completion> {
  const refused = refuseName(name);
  if (refused) return refused;
  const view = session.selected!;
  if (move && view.readOnly)
    return no('the mailbox is read-only (EXAMINE): messages cannot move out', 'READ-ONLY');
  const target = await session.mailbox!.folder(canonicalMailbox(name));
  if (!target) return no(`no mailbox ${name}: CREATE it first`, 'TRYCREATE');
  const uids = messagesOf(view, set, uid).map((m) => m.uid);
  if (uids.length === 0) return ok(`${move ? 'MOVE' : 'COPY'} completed: no message matched`);
  let mapping: Map<number, number>;
  try {
    mapping = move ? await view.folder.moveTo(uids, target) : await view.folder.copyTo(uids, target);
  } catch (err) {
    // RFC 9051 §7.1: OVERQUOTA, the copies would pass the account's quota (config mail.quotaBytes,
    // all its folders together). RFC 9051 §6.4.7: a COPY that fails copies nothing; the store made
    // none. A MOVE within the account changes no usage: the store never refuses it for the quota.
    if ((err as { code?: string }).code === 'OVER_QUOTA')
      return no(`${(err as Error).message}: nothing was copied; EXPUNGE messages to make room`, 'OVERQUOTA');
    throw err;
  }
  const { uidValidity } = await target.status();
  const from = [...mapping.keys()];
  const to = from.map((u) => mapping.get(u)!);
  const code = `COPYUID ${uidValidity} ${formatSequenceSet(from)} ${formatSequenceSet(to)}`;
  if (move) {
    // RFC 6851 §4.3: COPYUID goes in an untagged OK, before the EXPUNGE responses.
    session.out.untagged(`OK [${code}] moved`);
    return ok('MOVE completed');
  }
  return ok('COPY completed', code);
}

/** RFC 3501 §6.4.7: COPY set mailbox. */
export default command({
  name: 'COPY',
  states: SELECTED,
  usage: 'COPY message-set mailbox',
  uidForm: true,
  parse: parseCopy,
  run: ({ session, uid }, args) => transfer(session, uid, args, false),
});
