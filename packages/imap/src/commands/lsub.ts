import { AUTHENTICATED, command, ok } from './command.js';
import { listMailboxes, parseList } from './list.js';

/** RFC 3501 §6.3.9: LSUB reference pattern: the subscribed mailboxes that match. */
export default command({
  name: 'LSUB',
  states: AUTHENTICATED,
  usage: 'LSUB reference pattern',
  parse: (args) => parseList(args, true),
  async run({ session }, args) {
    await listMailboxes(session, args, 'LSUB');
    return ok('LSUB completed');
  },
});
