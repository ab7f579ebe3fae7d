import { canonicalMailbox } from '../mailbox-name.js';
import { AUTHENTICATED, command, no, ok, oneMailbox, refuseName } from './command.js';

/** RFC 3501 §6.3.6: SUBSCRIBE mailbox: it shows in LSUB (and LIST (SUBSCRIBED)). */
export default command({
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  usage: 'SUBSCRIBE mailbox',
  parse: oneMailbox,
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    const canonical = canonicalMailbox(name);
    if (!(await session.mailbox!.folder(canonical))) return no(`no mailbox ${name}`, 'NONEXISTENT');
    await session.mailbox!.setSubscribed(canonical, true);
    return ok('SUBSCRIBE completed');
  },
});
