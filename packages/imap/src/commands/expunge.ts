import { inSequenceSet, parseSequenceSet } from '../parser/sequence-set.js';
import { command, no, ok, SELECTED } from './command.js';

/**
 * RFC 3501 §6.4.3: EXPUNGE removes the messages flagged \Deleted; UID EXPUNGE set (RFC 4315
 * §2.1) only those of them in the set. The `* n EXPUNGE` lines come from the view's updates,
 * as for a removal by another session.
 */
export default command({
  name: 'EXPUNGE',
  states: SELECTED,
  usage: 'EXPUNGE | UID EXPUNGE uid-set',
  uidForm: true,
  parse(args, { uid }) {
    const set = uid ? parseSequenceSet(args.atom('UID set')) : null;
    args.end();
    return set;
  },
  async run({ session }, set) {
    const view = session.selected!;
    if (view.readOnly) return no('the mailbox is read-only (EXAMINE): nothing can be expunged', 'READ-ONLY');
    const largest = view.messages.at(-1)?.uid ?? 0;
    const uids = set
      ? view.messages.filter((m) => inSequenceSet(set, m.uid, largest)).map((m) => m.uid)
      : undefined;
    await view.folder.expunge(uids);
    return ok('EXPUNGE completed');
  },
});
