import { createSecureContext, TLSSocket } from 'node:tls';
import { ReplyError } from '../reply-error.js';
import { type CommandHandler, replyError } from './types.js';

/**
 * AUTH TLS (RFC 4217 §4): the client asks to secure the control connection; the server answers 234,
 * and the next bytes on the connection are the TLS handshake. Ours rather than ftp-srv's, because of
 * the moment of the switch: the socket is paused before the 234 goes out, so no byte the client sends
 * after it (its ClientHello) is read as a clear-text command, and clear text the client sent before
 * the handshake is dropped (the STARTTLS command injection, CVE-2011-0411).
 */
export const auth: CommandHandler = {
  beforeLogin: true,
  async run({ connection, command, control, files }) {
    try {
      if (command.arg?.toUpperCase() !== 'TLS')
        throw new ReplyError(504, 'AUTH TLS is the mechanism offered (RFC 4217)');
      if (connection.secure) throw new ReplyError(503, 'The connection is already secured with TLS');
    } catch (err) {
      return replyError(connection, err);
    }
    const clear = connection.commandSocket;
    control.beginTls();
    await connection.reply(234, 'AUTH TLS OK: start the TLS handshake');
    // Bytes already read (the ClientHello may be) go to TLS: the TLSSocket takes them from `clear`.
    const secure = new TLSSocket(clear, { isServer: true, secureContext: createSecureContext(files.tls) });
    control.readFrom(secure);
    // ftp-srv's connection listens on the first socket: the secure one's events are passed on to it,
    // as ftp-srv's own AUTH does.
    for (const event of ['timeout', 'end', 'close', 'drain', 'error']) {
      secure.on(event, (...args: unknown[]) => clear.emit(event, ...args));
    }
    connection.commandSocket = secure;
    connection.secure = true;
  },
};
