import type { RoomEvent } from '@portlab/matrix';

/**
 * An event as the client-server API shows it (client-server API §"Room event format", ClientEvent):
 * the federation fields (hashes, signatures, prev_events, auth_events, depth) stay on the server;
 * `unsigned.transaction_id` goes back to the device that sent it, so the client matches its local echo.
 */
export function clientEvent(event: RoomEvent, transactionId?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    content: event.content,
    event_id: event.event_id,
    origin_server_ts: event.origin_server_ts,
    room_id: event.room_id,
    sender: event.sender,
    type: event.type,
  };
  if (typeof event.state_key === 'string') out.state_key = event.state_key;
  if (event.redacts !== undefined) out.redacts = event.redacts;
  const unsigned: Record<string, unknown> = { age: Math.max(0, Date.now() - event.origin_server_ts) };
  if (transactionId !== undefined) unsigned.transaction_id = transactionId;
  out.unsigned = unsigned;
  return out;
}

/** The state types an invite shows of a room before joining (§"Stripped state", recommended list). */
const STRIPPED_TYPES = new Set([
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
]);

/** Stripped state: type, state_key, content and sender only (§"Stripped state"). */
export function strippedState(events: Iterable<RoomEvent>, invite: RoomEvent): Record<string, unknown>[] {
  const out = [...events]
    .filter((e) => STRIPPED_TYPES.has(e.type))
    .map((e) => ({ type: e.type, state_key: e.state_key, content: e.content, sender: e.sender }));
  out.push({
    type: invite.type,
    state_key: invite.state_key,
    content: invite.content,
    sender: invite.sender,
  });
  return out;
}
