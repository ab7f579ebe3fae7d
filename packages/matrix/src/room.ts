/**
 * Making a new event in a room this server holds: prev_events from the forward extremities, depth
 * one more than the deepest, auth_events by the selection algorithm, then hash, sign, and check the
 * authorization rules against the current state before anything is stored or sent.
 * Spec: server-server "PDUs" (prev_events), "Auth events selection"; rooms/v10 "Authorisation rules".
 */
import { type AuthResult, authorizeEvent } from './auth/rules.js';
import { selectAuthEvents } from './auth/select.js';
import { buildEvent } from './events/build.js';
import type { RoomEvent } from './events/types.js';
import type { SigningKey } from './keys.js';
import type { RoomLog } from './store/room-log.js';

/** The auth rules said no; `errcode` is the client-server error to answer with. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
  readonly errcode = 'M_FORBIDDEN';
}

export interface NewEventFields {
  roomId: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: Record<string, unknown>;
  redacts?: string;
}

/** At most this many prev_events (Synapse uses 10; more only makes events bigger). */
export const MAX_PREV_EVENTS = 10;

/**
 * A signed event ready to append, or ForbiddenError. `log` is the room's log (undefined for the
 * m.room.create event of a new room). Throws EventFormatError (M_TOO_LARGE) over 65,536 bytes.
 */
export function makeEvent(
  log: RoomLog | undefined,
  fields: NewEventFields,
  server: { origin: string; key: SigningKey },
  now = Date.now(),
): RoomEvent {
  const state = log?.currentState() ?? new Map();
  const prevEvents = (log?.forwardExtremities() ?? []).slice(0, MAX_PREV_EVENTS);
  const depth = Math.min((log?.maxDepth ?? 0) + 1, 2 ** 53 - 1);
  const event = buildEvent(
    {
      ...fields,
      prevEvents,
      authEvents: selectAuthEvents(fields.type, fields.stateKey, fields.sender, fields.content, state),
      depth,
      originServerTs: now,
      origin: server.origin,
    },
    server.key,
  );
  const verdict: AuthResult = authorizeEvent(event, state);
  if (!verdict.allowed) throw new ForbiddenError(verdict.reason);
  return event;
}
