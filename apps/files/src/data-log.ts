import type { Socket } from 'node:net';
import { formatBytes } from '@portlab/config';
import { endpoint, type Session } from '@portlab/transcript';

/**
 * FTP is the one classic protocol with a second connection per transfer (RFC 959 §2.3): commands and
 * replies on the control connection, the file itself on a data connection opened for it. These lines,
 * flagged 'data', put that second connection in the control session's transcript: when it opens,
 * between which ends, and what crossed it. Their `data` says the same for programs (the dashboard's
 * FTP-versus-P2P chart): `{ event: 'data-open', mode, from, to }`, then
 * `{ event: 'data-close', sent, received, ms }` (bytes the server sent and received, time open).
 */
export function logDataConnection(
  session: Session | undefined,
  socket: Socket,
  mode: 'passive' | 'active',
  detail: string,
): void {
  if (!session) return;
  const opened = Date.now();
  const client = endpoint(socket.remoteAddress, socket.remotePort);
  const server = endpoint(socket.localAddress, socket.localPort);
  // Who dialled whom: the client in passive mode, the server in active mode.
  const [from, to] = mode === 'passive' ? [client, server] : [server, client];
  session.server(`data connection open (${mode}, ${detail}): ${from} -> ${to}`, ['data'], {
    event: 'data-open',
    mode,
    from,
    to,
  });
  socket.once('close', () => {
    const ms = Math.max(Date.now() - opened, 1);
    const sent = socket.bytesWritten;
    const received = socket.bytesRead;
    const rate = formatBytes(Math.round(((sent + received) * 1000) / ms));
    session.server(
      `data connection closed: ${sent} bytes sent, ${received} received in ${ms} ms (${rate}/s)`,
      ['data'],
      { event: 'data-close', sent, received, ms },
    );
  });
}
