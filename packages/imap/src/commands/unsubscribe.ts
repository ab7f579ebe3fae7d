import { canonicalMailbox } from '../mailbox-name.js';
import { AUTHENTICATED, command, ok, oneMailbox, refuseName } from './command.js';

/** RFC 3501 §6.3.7: UNSUBSCRIBE mailbox (the mailbox itself stays). */
export default command({
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  usage: 'UNSUBSCRIBE mailbox',
  parse: oneMailbox,
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    await session.mailbox!.setSubscribed(canonicalMailbox(name), false);
    return ok('UNSUBSCRIBE completed');
  },
});
