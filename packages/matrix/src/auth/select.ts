/**
 * Which state events an event must cite in `auth_events`.
 * Spec: server-server "Auth events selection" (room version 10: the m.room.create event included).
 */
import { stateKeyOf } from '../events/types.js';
import { isObject } from '../signing.js';
import type { StateMap } from '../state/state-map.js';

/** The (type, state_key) keys an event's auth events may have (as stateKeyOf strings). */
export function authStateKeys(
  type: string,
  stateKey: string | undefined,
  sender: string,
  content: Record<string, unknown>,
): string[] {
  if (type === 'm.room.create') return [];
  const keys = [
    stateKeyOf('m.room.create', ''),
    stateKeyOf('m.room.power_levels', ''),
    stateKeyOf('m.room.member', sender),
  ];
  if (type === 'm.room.member' && typeof stateKey === 'string') {
    keys.push(stateKeyOf('m.room.member', stateKey));
    const membership = content.membership;
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      keys.push(stateKeyOf('m.room.join_rules', ''));
    }
    const tpi = content.third_party_invite;
    if (
      membership === 'invite' &&
      isObject(tpi) &&
      isObject(tpi.signed) &&
      typeof tpi.signed.token === 'string'
    ) {
      keys.push(stateKeyOf('m.room.third_party_invite', tpi.signed.token));
    }
    const via = content.join_authorised_via_users_server;
    if (membership === 'join' && typeof via === 'string') keys.push(stateKeyOf('m.room.member', via));
  }
  return [...new Set(keys)];
}

/** The event IDs to put in `auth_events` of a new event, taken from `state` (the current state). */
export function selectAuthEvents(
  type: string,
  stateKey: string | undefined,
  sender: string,
  content: Record<string, unknown>,
  state: StateMap,
): string[] {
  const ids: string[] = [];
  for (const key of authStateKeys(type, stateKey, sender, content)) {
    const ev = state.get(key);
    if (ev) ids.push(ev.event_id);
  }
  return ids;
}
