import { AUTHENTICATED, command } from './command.js';
import { openMailbox, parseSelect } from './select.js';

/** RFC 3501 §6.3.2: EXAMINE is SELECT read-only: no flag changes, no \Recent taken. */
export default command({
  name: 'EXAMINE',
  states: AUTHENTICATED,
  usage: 'EXAMINE mailbox [(CONDSTORE)]',
  parse: parseSelect,
  run: (context, args) => openMailbox(context, args, true),
});
