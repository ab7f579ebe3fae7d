import { AUTHENTICATED, command, ok, refuseName } from './command.js';

/** RFC 3501 §6.3.7: UNSUBSCRIBE mailbox (the mailbox itself stays). */
export default command({
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  usage: 'UNSUBSCRIBE mailbox',
  parse(args) {
    const name = args.astring('mailbox');
    args.end();
    return name;
  },
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    await session.mailbox!.setSubscribed(name.toUpperCase() === 'INBOX' ? 'INBOX' : name, false);
    return ok('UNSUBSCRIBE completed');
  },
});
