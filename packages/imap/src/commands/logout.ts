import { ANY_STATE, command, ok } from './command.js';

/** RFC 3501 §6.1.3: LOGOUT: the server says BYE, then OK, then closes. */
export default command({
  name: 'LOGOUT',
  states: ANY_STATE,
  usage: 'LOGOUT',
  parse: (args) => args.end(),
  run({ session }) {
    session.out.untagged('BYE portlab IMAP server logging out');
    session.close();
    return ok('LOGOUT completed');
  },
});
