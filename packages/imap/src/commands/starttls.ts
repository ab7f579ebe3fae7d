import { bad, command, NOT_AUTHENTICATED } from './command.js';

/**
 * RFC 3501 §6.2.1: STARTTLS. The OK goes out in clear text, then the TLS handshake starts on the
 * same connection; what the client sent after STARTTLS in clear text is dropped (LineInput.attach).
 */
export default command({
  name: 'STARTTLS',
  states: NOT_AUTHENTICATED,
  usage: 'STARTTLS',
  parse: (args) => args.end(),
  run({ session }) {
    if (session.secure) return bad('TLS is already on');
    return {
      status: 'OK',
      text: 'begin TLS negotiation now',
      flags: ['tls'],
      afterReply: () => session.startTls(),
    };
  },
});
