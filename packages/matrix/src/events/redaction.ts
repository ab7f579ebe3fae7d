/**
 * The redaction algorithm of room version 10 (unchanged since v9).
 * Spec: rooms/v10 "Redactions" (fragment v9-redactions).
 *
 * Redaction keeps only the keys the protocol needs (graph, auth, signatures) and strips `content`
 * down to the keys the auth rules read. Signatures and reference hashes are computed over the
 * redacted form, so a redacted event still verifies.
 */
import { actionLevel, userPowerLevel } from '../auth/power-levels.js';
import { isObject, type JsonObject } from '../signing.js';
import type { StateMap } from '../state/state-map.js';
import { domainOf, type Pdu, type RoomEvent } from './types.js';

const KEPT_TOP_LEVEL = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
]);

const KEPT_CONTENT: Record<string, readonly string[]> = {
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': [
    'ban',
    'events',
    'events_default',
    'kick',
    'redact',
    'state_default',
    'users',
    'users_default',
  ],
  'm.room.history_visibility': ['history_visibility'],
};

/** A redacted copy of `event` (the argument is not changed). */
export function redactEvent<T extends JsonObject>(event: T): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(event)) if (KEPT_TOP_LEVEL.has(k)) out[k] = v;
  const content = isObject(event.content) ? event.content : {};
  const kept: JsonObject = {};
  const allowed = typeof event.type === 'string' ? KEPT_CONTENT[event.type] : undefined;
  for (const k of allowed ?? []) if (k in content) kept[k] = content[k];
  out.content = kept;
  return out;
}

/**
 * Should the server apply `redaction` (an m.room.redaction) to `target`? Spec: rooms/v10
 * "Handling redactions" (v3+): if the redacter's power level reaches the redact level, or the
 * redacter's server is the target sender's server (so one can always redact one's own messages).
 * `state` is the state before the redaction.
 */
export function mayRedact(state: StateMap, redaction: Pdu, target: Pdu): boolean {
  if (redaction.room_id !== target.room_id) return false;
  if (userPowerLevel(state, redaction.sender) >= actionLevel(state, 'redact')) return true;
  return domainOf(redaction.sender) === domainOf(target.sender);
}

/** The event as clients see it once redacted: stripped, with the redaction in unsigned. */
export function applyRedaction(target: RoomEvent, redaction: RoomEvent): RoomEvent {
  const stripped = redactEvent(target) as RoomEvent;
  return { ...stripped, unsigned: { ...(target.unsigned ?? {}), redacted_because: redaction } };
}
