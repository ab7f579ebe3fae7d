import { bad, command, NOT_AUTHENTICATED, no } from './command.js';

/**
 * RFC 3501 §6.2.2 AUTHENTICATE with the PLAIN mechanism (RFC 4616): base64 of
 * "authzid NUL user NUL password", given at once (SASL-IR, RFC 4959) or after a `+` prompt.
 */
export default command({
  name: 'AUTHENTICATE',
  states: NOT_AUTHENTICATED,
  usage: 'AUTHENTICATE PLAIN [initial-response]',
  credentials: true,
  parse(args) {
    const mechanism = args.atom('mechanism').toUpperCase();
    const initial = args.done ? undefined : args.atom('initial response');
    args.end();
    return { mechanism, initial };
  },
  async run({ session }, { mechanism, initial }) {
    if (mechanism !== 'PLAIN') return no(`mechanism ${mechanism} is not supported: use PLAIN`);
    if (!session.passwordsAllowed())
      return no('this lab refuses passwords in clear text: send STARTTLS first', 'PRIVACYREQUIRED');
    let response = initial;
    if (response === undefined) {
      session.out.continuation('');
      session.out.release();
      const read = await session.input.line(8192);
      if (!('line' in read)) return bad('the PLAIN response was too long or never came');
      response = read.line.toString('latin1');
      session.transcript?.client(response, ['credentials']);
    }
    if (response === '*') return bad('authentication cancelled');
    const [authzid, user, password] = Buffer.from(response === '=' ? '' : response, 'base64')
      .toString('utf8')
      .split('\0');
    if (user === undefined || password === undefined)
      return bad('malformed PLAIN response: send base64 of "\\0user\\0password"');
    if (authzid && authzid !== user)
      return no('acting as another user is not allowed', 'AUTHORIZATIONFAILED');
    return session.authenticate(user, password);
  },
});
