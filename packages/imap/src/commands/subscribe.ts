import { AUTHENTICATED, command, no, ok, refuseName } from './command.js';

/** RFC 3501 §6.3.6: SUBSCRIBE mailbox: it shows in LSUB (and LIST (SUBSCRIBED)). */
export default command({
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  usage: 'SUBSCRIBE mailbox',
  parse(args) {
    const name = args.astring('mailbox');
    args.end();
    return name;
  },
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    const canonical = name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
    if (!(await session.mailbox!.folder(canonical))) return no(`no mailbox ${name}`, 'NONEXISTENT');
    await session.mailbox!.setSubscribed(canonical, true);
    return ok('SUBSCRIBE completed');
  },
});
