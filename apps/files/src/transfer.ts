import type { Socket } from 'node:net';
import type { FtpConnection } from './ftp-srv-internals.js';
import { ReplyError } from './reply-error.js';

/**
 * The reply sequence of every transfer (RFC 959 §5.4): 150 "about to open data connection", the data
 * connection (425 if it never comes), the bytes, then 226 — or 426 if the data connection broke, or
 * our own refusal (552 quota exceeded). The data connection is closed in every case; in stream mode
 * (RFC 959 §3.4.1) closing it is how the receiver knows the file ended.
 *
 * The 150 goes first: Python's ftplib starts TLS on the data connection (PROT P) only once it has it,
 * so a server that waits for the handshake before its 150 (as ftp-srv does) waits for ever.
 */
export async function overDataConnection(
  connection: FtpConnection,
  opening: string,
  move: (socket: Socket) => Promise<string>,
): Promise<void> {
  try {
    await connection.reply(150, opening);
    let socket: Socket;
    try {
      socket = await connection.connector.waitForConnection();
    } catch {
      await connection.reply(
        425,
        'No data connection: send PASV or EPSV and connect to the port it names (or PORT/EPRT), then this command',
      );
      return;
    }
    let done: string;
    try {
      done = await move(socket);
    } catch (err) {
      if (err instanceof ReplyError) await connection.reply(err.code, err.message);
      else await connection.reply(426, 'Data connection closed before the end: transfer aborted');
      return;
    }
    await connection.reply(226, done);
  } finally {
    connection.connector.end();
  }
}
