import { command, NOT_AUTHENTICATED, no } from './command.js';

/** RFC 3501 §6.2.3: LOGIN user password (both astrings: a password with spaces goes quoted). */
export default command({
  name: 'LOGIN',
  states: NOT_AUTHENTICATED,
  usage: 'LOGIN user password',
  credentials: true,
  parse(args) {
    const user = args.astring('user name');
    const password = args.astring('password');
    args.end();
    return { user, password };
  },
  async run({ session }, { user, password }) {
    if (!session.passwordsAllowed())
      return no(
        'this lab refuses passwords in clear text: send STARTTLS first (see LOGINDISABLED)',
        'PRIVACYREQUIRED',
      );
    return session.authenticate(user, password);
  },
});
