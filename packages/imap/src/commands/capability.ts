import { ANY_STATE, command, ok } from './command.js';

/** RFC 3501 §6.1.1: CAPABILITY lists what the server supports, in this state. */
export default command({
  name: 'CAPABILITY',
  states: ANY_STATE,
  usage: 'CAPABILITY',
  parse: (args) => args.end(),
  run({ session }) {
    session.out.untagged(`CAPABILITY ${session.capabilities().join(' ')}`);
    return ok('CAPABILITY completed');
  },
});
