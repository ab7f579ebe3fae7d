/**
 * What to do with a PDU another server sent: the checks of server-server "Checks performed on
 * receipt of a PDU", in order, for a room this server already holds.
 *
 *  1-2. format, size and the sender server's signature (verifyEvent): else DROP, store nothing;
 *  3.   content hash: the spec keeps only the redacted copy; the lab DROPS it by default (issue #16:
 *       "an event tampered with in transit" is refused and nothing stored), `keepRedacted: true`
 *       does what the spec says;
 *  4.   auth rules against the event's own auth_events: else REJECT (stored as rejected);
 *  5.   auth rules against the state before the event (from its prev_events): else REJECT;
 *  6.   auth rules against the room's current state: else "soft fail". Simplification: a soft-failed
 *       event is stored as rejected here (the spec keeps it in the graph, hidden from clients).
 * If auth events or prev events are unknown, the answer is MISSING with their IDs: fetch them
 * (GET /event_auth, POST /get_missing_events) and try again.
 */
import { authorizeByAuthEvents, authorizeEvent } from './auth/rules.js';
import type { RoomEvent } from './events/types.js';
import { verifyEvent } from './events/verify.js';
import type { KeyLookup } from './signing.js';
import type { RoomLog } from './store/room-log.js';

export type Verdict =
  | { action: 'accept'; event: RoomEvent; redacted: boolean }
  | { action: 'reject'; event: RoomEvent; reason: string }
  | { action: 'drop'; reason: string }
  | { action: 'missing'; event: RoomEvent; authEvents: string[]; prevEvents: string[] }
  | { action: 'known'; eventId: string };

/**
 * Runs the checks. Then: accept → `store.append(event)`; reject → `store.append(event,
 * {rejected: reason})`; drop → nothing; missing → fetch, then call again.
 * `opts.keepRedacted`: on a content hash mismatch, go on with the redacted copy (the spec) instead
 * of dropping the event (the lab's default).
 * `opts.allowMissingPrev`: accept unknown prev_events (the state before is then built from the known
 * ones only) — for an event whose gap you chose not to fill.
 */
export async function checkIncomingPdu(
  log: RoomLog,
  received: unknown,
  keyLookup: KeyLookup,
  opts: { allowMissingPrev?: boolean; keepRedacted?: boolean } = {},
): Promise<Verdict> {
  const v = await verifyEvent(received, keyLookup);
  if (!v.ok && (v.reason !== 'hash' || !opts.keepRedacted))
    return { action: 'drop', reason: `${v.reason}: ${v.message}` };
  const eventId = v.eventId;
  const pdu = v.ok ? v.pdu : v.redacted;
  const event = { ...pdu, event_id: eventId } as RoomEvent;
  if (event.room_id !== log.roomId) return { action: 'drop', reason: 'event is for another room' };
  if (log.has(eventId)) return { action: 'known', eventId };

  const missingAuth = event.auth_events.filter((id) => !log.has(id));
  const missingPrev = opts.allowMissingPrev ? [] : event.prev_events.filter((id) => !log.has(id));
  if (missingAuth.length > 0 || missingPrev.length > 0) {
    return { action: 'missing', event, authEvents: missingAuth, prevEvents: missingPrev };
  }
  const authEvents = event.auth_events.map((id) => log.peek(id)?.event as RoomEvent);
  const rejectedAuth = event.auth_events.find((id) => log.peek(id)?.rejected);
  if (rejectedAuth) return { action: 'reject', event, reason: `auth event ${rejectedAuth} was rejected` }; // 2.3
  const byAuth = authorizeByAuthEvents(event, authEvents);
  if (!byAuth.allowed) return { action: 'reject', event, reason: `auth events: ${byAuth.reason}` };
  const before = authorizeEvent(event, log.stateBefore(event.prev_events));
  if (!before.allowed) return { action: 'reject', event, reason: `state before: ${before.reason}` };
  const now = authorizeEvent(event, log.currentState());
  if (!now.allowed) return { action: 'reject', event, reason: `soft-failed, current state: ${now.reason}` };
  return { action: 'accept', event, redacted: !v.ok };
}
