import { DELIMITER } from '../mailbox-name.js';
import { AUTHENTICATED, command, no, ok, oneMailbox, refuseName } from './command.js';

/** RFC 3501 §6.3.4: DELETE mailbox, with its messages. Not INBOX, not one that holds others. */
export default command({
  name: 'DELETE',
  states: AUTHENTICATED,
  usage: 'DELETE mailbox',
  parse: oneMailbox,
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    if (name.toUpperCase() === 'INBOX') return no('INBOX cannot be deleted');
    const names = (await session.mailbox!.listFolders()).map((f) => f.name);
    if (!names.includes(name)) return no(`no mailbox ${name}`, 'NONEXISTENT');
    const child = names.find((n) => n.startsWith(`${name}${DELIMITER}`));
    if (child) return no(`${name} holds ${child}: delete that first`, 'INUSE');
    if (session.selected?.name === name) session.deselect();
    // The name stays subscribed: RFC 3501 §6.3.6 forbids the server to remove a name from the
    // subscriptions on its own; LSUB and LIST (SUBSCRIBED) still list it (RFC 5258 §3.1).
    await session.mailbox!.deleteFolder(name);
    return ok('DELETE completed');
  },
});
