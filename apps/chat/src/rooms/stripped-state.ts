import type { RoomEvent } from '@portlab/matrix';

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
