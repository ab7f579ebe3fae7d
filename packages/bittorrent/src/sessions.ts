import type { Server, Socket } from 'node:net';
import type { Session, Transcript } from '@portlab/transcript';

/** Finds the transcript session of a connection a server accepted. */
export type SessionOf = (socket: Socket) => Session | undefined;

/**
 * An app runtime (`runtime.serve`) opens a session for each accepted connection, and `sessionOf`
 * finds it. A server run without the runtime (the CLI, tests) opens its own, here.
 */
export function acceptedSessions(server: Server, transcript: Transcript, sessionOf?: SessionOf): SessionOf {
  if (sessionOf) return sessionOf;
  const sessions = new WeakMap<Socket, Session>();
  server.prependListener('connection', (socket: Socket) => {
    const session = transcript.accepted(socket);
    sessions.set(socket, session);
    socket.once('close', () => session.close());
  });
  return (socket) => sessions.get(socket);
}
