/**
 * Reading power levels and memberships out of a room state.
 * Spec: client-server "m.room.power_levels" (defaults), server-server "Definitions"
 * (required power level; invite level 0; kick, ban, redact 50), rooms/v10 (integers only).
 */
import { domainOf } from '../events/types.js';
import { isObject } from '../signing.js';
import { type StateMap, stateGet } from '../state/state-map.js';

/** The creator of the room (v10: `content.creator` of m.room.create). */
export function roomCreator(state: StateMap): string | undefined {
  const creator = stateGet(state, 'm.room.create', '')?.content.creator;
  return typeof creator === 'string' ? creator : undefined;
}

/** "join", "invite", "leave", "ban", "knock"; "leave" when the user never had a member event. */
export function membershipOf(state: StateMap, userId: string): string {
  const m = stateGet(state, 'm.room.member', userId)?.content.membership;
  return typeof m === 'string' ? m : 'leave';
}

function powerContent(state: StateMap): Record<string, unknown> | undefined {
  return stateGet(state, 'm.room.power_levels', '')?.content;
}

function int(v: unknown, dflt: number): number {
  return Number.isSafeInteger(v) ? (v as number) : dflt;
}

/**
 * A user's power level: `users[id]`, else `users_default` (0). Without any power_levels event the
 * creator has 100 and everyone else 0 (client-server "m.room.power_levels").
 */
export function userPowerLevel(state: StateMap, userId: string): number {
  const pl = powerContent(state);
  if (!pl) return userId === roomCreator(state) ? 100 : 0;
  const users = isObject(pl.users) ? pl.users : {};
  if (userId in users) return int(users[userId], 0);
  return int(pl.users_default, 0);
}

/** The level named `invite` (default 0), `kick`, `ban`, `redact` (default 50). */
export function actionLevel(state: StateMap, action: 'invite' | 'kick' | 'ban' | 'redact'): number {
  const pl = powerContent(state);
  return int(pl?.[action], action === 'invite' ? 0 : 50);
}

/**
 * The power level needed to send an event of `type`: `events[type]`, else `state_default` (50,
 * but 0 when there is no power_levels event at all) or `events_default` (0).
 */
export function requiredPowerLevel(state: StateMap, type: string, isState: boolean): number {
  const pl = powerContent(state);
  if (!pl) return 0;
  const events = isObject(pl.events) ? pl.events : {};
  if (type in events) return int(events[type], 0);
  return isState ? int(pl.state_default, 50) : int(pl.events_default, 0);
}

/** The users whose membership is "join". */
export function joinedMembers(state: StateMap): string[] {
  const out: string[] = [];
  for (const ev of state.values()) {
    if (ev.type === 'm.room.member' && typeof ev.state_key === 'string' && ev.content.membership === 'join') {
      out.push(ev.state_key);
    }
  }
  return out.sort();
}

/**
 * The servers with a joined user: where a new event of the room must be sent (server-server
 * "Transactions": every server in the room gets it), sorted.
 */
export function serversInRoom(state: StateMap): string[] {
  return [...new Set(joinedMembers(state).map(domainOf))].sort();
}
