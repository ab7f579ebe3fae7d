import { command, ok, SELECTED } from './command.js';

/** RFC 3691: UNSELECT leaves the mailbox without expunging anything (CLOSE would). */
export default command({
  name: 'UNSELECT',
  states: SELECTED,
  usage: 'UNSELECT',
  parse: (args) => args.end(),
  run({ session }) {
    session.deselect();
    return ok('UNSELECT completed');
  },
});
