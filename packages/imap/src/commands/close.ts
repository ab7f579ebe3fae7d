import { command, ok, SELECTED } from './command.js';

/**
 * RFC 3501 §6.4.2: CLOSE expunges the \Deleted messages (without EXPUNGE responses: the client
 * is leaving) unless the mailbox is read-only, and returns to the authenticated state.
 */
export default command({
  name: 'CLOSE',
  states: SELECTED,
  usage: 'CLOSE',
  parse: (args) => args.end(),
  async run({ session }) {
    const view = session.selected!;
    session.deselect();
    if (!view.readOnly) await view.folder.expunge();
    return ok('CLOSE completed');
  },
});
