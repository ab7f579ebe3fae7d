/**
 * The authorization rules of room version 10. Spec: rooms/v10 "Authorisation rules"; the numbers
 * in the comments (1., 4.3.2, …) are the rule numbers there.
 *
 * Not supported, and refused rather than half-done (the lab has no spaces and no identity server):
 * third-party invites (4.4.1, 6) and restricted joins vouched by another server (4.3.5.2).
 */

import {
  domainOf,
  isStateEvent,
  type Pdu,
  ROOM_VERSION,
  type RoomEvent,
  stateKeyOf,
} from '../events/types.js';
import { isObject } from '../signing.js';
import { type StateMap, stateFromEvents, stateGet } from '../state/state-map.js';
import {
  actionLevel,
  membershipOf,
  requiredPowerLevel,
  roomCreator,
  userPowerLevel,
} from './power-levels.js';
import { authStateKeys } from './select.js';

export type AuthResult = { allowed: true } | { allowed: false; reason: string };

const ALLOW: AuthResult = { allowed: true };
const deny = (reason: string): AuthResult => ({ allowed: false, reason });

/** Room versions this server understands (rule 1.3). */
export const KNOWN_ROOM_VERSIONS = new Set([ROOM_VERSION]);

/**
 * Rule 2: the event's own `auth_events`, already fetched, are the right ones: no duplicate
 * (type, state_key), only the kinds the selection algorithm picks, a create event among them, all in
 * the same room. (2.3, "were themselves rejected", is the caller's: it knows which events it rejected.)
 */
export function checkAuthEvents(event: Pdu, authEvents: readonly RoomEvent[]): AuthResult {
  if (event.type === 'm.room.create') return ALLOW;
  const allowed = new Set(authStateKeys(event.type, event.state_key, event.sender, event.content));
  const seen = new Set<string>();
  let create = false;
  for (const ae of authEvents) {
    if (typeof ae.state_key !== 'string') return deny('an auth event is not a state event');
    const key = stateKeyOf(ae.type, ae.state_key);
    if (seen.has(key)) return deny(`two auth events for ${ae.type} ${ae.state_key}`); // 2.1
    seen.add(key);
    if (!allowed.has(key)) return deny(`${ae.type} ${ae.state_key} is not an auth event for this event`); // 2.2
    if (ae.room_id !== event.room_id) return deny('an auth event is from another room'); // 2.5
    if (ae.type === 'm.room.create') create = true;
  }
  if (!create) return deny('no m.room.create among the auth events'); // 2.4
  return ALLOW;
}

/** Rules 1-2 then 3-10 with the state given by the event's own auth events. */
export function authorizeByAuthEvents(event: Pdu, authEvents: readonly RoomEvent[]): AuthResult {
  const r = checkAuthEvents(event, authEvents);
  if (!r.allowed) return r;
  return authorizeEvent(event, stateFromEvents(authEvents));
}

/**
 * Rules 1 and 3-10: may `event` happen in a room whose state is `state`? `state` is the state
 * before the event (receipt check 5), the current state (check 6, and before sending), or the
 * state made of its auth events (check 4).
 */
export function authorizeEvent(event: Pdu, state: StateMap): AuthResult {
  // 1. m.room.create
  if (event.type === 'm.room.create') {
    if (event.prev_events.length > 0) return deny('a create event has no prev_events'); // 1.1
    if (domainOf(event.room_id) !== domainOf(event.sender)) return deny('room_id and sender domains differ'); // 1.2
    const v = event.content.room_version;
    if (v !== undefined && !KNOWN_ROOM_VERSIONS.has(String(v)))
      return deny(`unknown room version ${String(v)}`); // 1.3
    if (typeof event.content.creator !== 'string') return deny('a create event names its creator'); // 1.4
    return ALLOW; // 1.5
  }
  const create = stateGet(state, 'm.room.create', '');
  if (!create) return deny('the room has no m.room.create event');

  // 3. a room closed to federation
  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny('this room does not federate');
  }

  // 4. m.room.member
  if (event.type === 'm.room.member') return authorizeMember(event, state, create);

  // 5. everyone else must be joined
  if (membershipOf(state, event.sender) !== 'join') return deny(`${event.sender} is not in the room`);

  // 6. third-party invites: not supported here
  if (event.type === 'm.room.third_party_invite') return deny('third-party invites are not supported');

  // 7. the event type's required power level
  const senderLevel = userPowerLevel(state, event.sender);
  const needed = requiredPowerLevel(state, event.type, isStateEvent(event));
  if (senderLevel < needed)
    return deny(`${event.type} needs power level ${needed}, ${event.sender} has ${senderLevel}`);

  // 8. a state key naming a user belongs to that user
  if (
    typeof event.state_key === 'string' &&
    event.state_key.startsWith('@') &&
    event.state_key !== event.sender
  ) {
    return deny('only that user may set a state key that is their user ID');
  }

  // 9. m.room.power_levels
  if (event.type === 'm.room.power_levels') return authorizePowerLevels(event, state, senderLevel);

  return ALLOW; // 10
}

function authorizeMember(event: Pdu, state: StateMap, create: RoomEvent): AuthResult {
  const target = event.state_key;
  const membership = event.content.membership;
  if (typeof target !== 'string' || typeof membership !== 'string')
    return deny('a member event needs state_key and membership'); // 4.1
  const sender = event.sender;
  const senderMembership = membershipOf(state, sender);
  const targetMembership = membershipOf(state, target);
  const joinRule = joinRuleOf(state);
  const senderLevel = userPowerLevel(state, sender);
  const targetLevel = userPowerLevel(state, target);

  switch (membership) {
    case 'join': {
      // 4.3.1: the creator's own first join, right after the create event
      if (
        event.prev_events.length === 1 &&
        event.prev_events[0] === create.event_id &&
        target === roomCreator(state)
      ) {
        return ALLOW;
      }
      if (sender !== target) return deny('one can only join for oneself'); // 4.3.2
      if (senderMembership === 'ban') return deny(`${sender} is banned`); // 4.3.3
      if (joinRule === 'invite' || joinRule === 'knock') {
        // 4.3.4
        return targetMembership === 'invite' || targetMembership === 'join'
          ? ALLOW
          : deny('this room is invite-only');
      }
      if (joinRule === 'restricted' || joinRule === 'knock_restricted') {
        // 4.3.5.1; 4.3.5.2 (a join vouched for by another member's server) is not supported
        return targetMembership === 'invite' || targetMembership === 'join'
          ? ALLOW
          : deny('restricted joins need an invite here');
      }
      if (joinRule === 'public') return ALLOW; // 4.3.6
      return deny(`join rule ${joinRule} lets nobody in`); // 4.3.7
    }
    case 'invite': {
      if (event.content.third_party_invite !== undefined)
        return deny('third-party invites are not supported'); // 4.4.1
      if (senderMembership !== 'join') return deny(`${sender} is not in the room`); // 4.4.2
      if (targetMembership === 'join' || targetMembership === 'ban')
        return deny(`${target} is ${targetMembership === 'join' ? 'already in the room' : 'banned'}`); // 4.4.3
      const level = actionLevel(state, 'invite');
      return senderLevel >= level ? ALLOW : deny(`inviting needs power level ${level}`); // 4.4.4-5
    }
    case 'leave': {
      if (sender === target) {
        // 4.5.1
        return ['invite', 'join', 'knock'].includes(senderMembership)
          ? ALLOW
          : deny(`${sender} is not in the room`);
      }
      if (senderMembership !== 'join') return deny(`${sender} is not in the room`); // 4.5.2
      if (targetMembership === 'ban' && senderLevel < actionLevel(state, 'ban'))
        return deny('unbanning needs the ban level'); // 4.5.3
      const kick = actionLevel(state, 'kick');
      if (senderLevel >= kick && targetLevel < senderLevel) return ALLOW; // 4.5.4
      return deny(`kicking needs power level ${kick} and more than the target's`); // 4.5.5
    }
    case 'ban': {
      if (senderMembership !== 'join') return deny(`${sender} is not in the room`); // 4.6.1
      const ban = actionLevel(state, 'ban');
      if (senderLevel >= ban && targetLevel < senderLevel) return ALLOW; // 4.6.2
      return deny(`banning needs power level ${ban} and more than the target's`); // 4.6.3
    }
    case 'knock': {
      if (joinRule !== 'knock' && joinRule !== 'knock_restricted')
        return deny('this room does not accept knocks'); // 4.7.1
      if (sender !== target) return deny('one can only knock for oneself'); // 4.7.2
      return ['ban', 'invite', 'join'].includes(senderMembership)
        ? deny(`${sender} is ${senderMembership}`)
        : ALLOW; // 4.7.3-4
    }
    default:
      return deny(`unknown membership ${membership}`); // 4.8
  }
}

/** The join rule in force; "invite" when the room has no m.room.join_rules event. */
export function joinRuleOf(state: StateMap): string {
  const rule = stateGet(state, 'm.room.join_rules', '')?.content.join_rule;
  return typeof rule === 'string' ? rule : 'invite';
}

const LEVEL_KEYS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
const USER_ID = /^@[^:]+:.+$/;

function authorizePowerLevels(event: Pdu, state: StateMap, senderLevel: number): AuthResult {
  const c = event.content;
  // 9.1-9.3: v10 takes integers only, never "50" as a string
  for (const k of LEVEL_KEYS)
    if (k in c && !Number.isSafeInteger(c[k])) return deny(`${k} must be an integer`);
  for (const k of ['events', 'notifications'] as const) {
    if (k in c && !(isObject(c[k]) && Object.values(c[k]).every(Number.isSafeInteger))) {
      return deny(`${k} must map to integers`);
    }
  }
  if ('users' in c) {
    const users = c.users;
    if (!isObject(users)) return deny('users must be an object');
    for (const [id, lvl] of Object.entries(users)) {
      if (!USER_ID.test(id) || !Number.isSafeInteger(lvl)) return deny('users must map user IDs to integers');
    }
  }
  const previous = stateGet(state, 'm.room.power_levels', '');
  if (!previous) return ALLOW; // 9.4
  const old = previous.content;
  // 9.5: a top-level level changed: both its old and new values within the sender's reach
  for (const k of LEVEL_KEYS) {
    if (old[k] === c[k]) continue;
    if (k in old && (old[k] as number) > senderLevel)
      return deny(`cannot change ${k} from above one's own level`);
    if (k in c && (c[k] as number) > senderLevel) return deny(`cannot set ${k} above one's own level`);
  }
  // 9.6-9.7: entries of events and notifications
  for (const k of ['events', 'notifications'] as const) {
    const before = (isObject(old[k]) ? old[k] : {}) as Record<string, number>;
    const after = (isObject(c[k]) ? c[k] : {}) as Record<string, number>;
    for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[name] === after[name]) continue;
      if (name in before && (before[name] as number) > senderLevel)
        return deny(`cannot change ${k}.${name} from above one's own level`);
      if (name in after && (after[name] as number) > senderLevel)
        return deny(`cannot set ${k}.${name} above one's own level`);
    }
  }
  // 9.8-9.9: users
  const before = (isObject(old.users) ? old.users : {}) as Record<string, number>;
  const after = (isObject(c.users) ? c.users : {}) as Record<string, number>;
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[id] === after[id]) continue;
    if (id !== event.sender && id in before && (before[id] as number) >= senderLevel) {
      return deny(`cannot change the level of ${id}, who is not below the sender`);
    }
    if (id in after && (after[id] as number) > senderLevel)
      return deny(`cannot give ${id} more than one's own level`);
  }
  return ALLOW; // 9.10
}
