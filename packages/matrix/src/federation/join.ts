/**
 * Joining a room held by another server, the protocol pieces both sides need.
 * Spec: server-server "Joining Rooms": GET /make_join/{roomId}/{userId} (the resident server hands
 * out an unsigned template), the joining server fills in, hashes and signs it, PUT /v2/send_join
 * (the resident server checks and stores it, and answers with the room's state before the join and
 * its auth chain), and the joining server checks that state and stores it; "Inviting to a room"
 * (v2 invite: the invitee's server adds its own signature).
 */

import { serversInRoom } from '../auth/power-levels.js';
import { authorizeEvent } from '../auth/rules.js';
import { selectAuthEvents } from '../auth/select.js';
import { buildEvent, toFederationPdu } from '../events/build.js';
import { redactEvent } from '../events/redaction.js';
import { domainOf, type Pdu, ROOM_VERSION, type RoomEvent } from '../events/types.js';
import { verifyEvent } from '../events/verify.js';
import type { SigningKey } from '../keys.js';
import { ForbiddenError } from '../room.js';
import { isObject, type JsonObject, type KeyLookup, signJson } from '../signing.js';
import { stateFromEvents } from '../state/state-map.js';
import type { RoomLog } from '../store/room-log.js';
import type { RoomStore } from '../store/room-store.js';

export interface EventTemplate {
  room_id: string;
  sender: string;
  origin: string;
  origin_server_ts: number;
  type: string;
  state_key: string;
  content: Record<string, unknown>;
  prev_events: string[];
  auth_events: string[];
  depth: number;
}

/**
 * The resident server's answer to make_join (or make_leave with membership "leave"):
 * `{room_version, event}`. Throws ForbiddenError (answer 403 M_FORBIDDEN) if the rules would refuse.
 */
export function makeMembershipTemplate(
  log: RoomLog,
  userId: string,
  membership: 'join' | 'leave' = 'join',
  now = Date.now(),
): { room_version: string; event: EventTemplate } {
  const state = log.currentState();
  const content = { membership };
  const event: EventTemplate = {
    room_id: log.roomId,
    sender: userId,
    origin: domainOf(userId),
    origin_server_ts: now,
    type: 'm.room.member',
    state_key: userId,
    content,
    prev_events: log.forwardExtremities().slice(0, 10),
    auth_events: selectAuthEvents('m.room.member', userId, userId, content, state),
    depth: log.maxDepth + 1,
  };
  const verdict = authorizeEvent({ ...event, hashes: { sha256: '' }, signatures: {} } as Pdu, state);
  if (!verdict.allowed) throw new ForbiddenError(verdict.reason);
  return { room_version: ROOM_VERSION, event };
}

/** The joining server: a make_join/make_leave template, hashed and signed as our own event. */
export function buildEventFromTemplate(
  template: unknown,
  origin: string,
  key: SigningKey,
  now = Date.now(),
): RoomEvent {
  if (!isObject(template)) throw new ForbiddenError('the template is not an object');
  const t = template as Partial<EventTemplate>;
  if (
    typeof t.room_id !== 'string' ||
    typeof t.sender !== 'string' ||
    typeof t.type !== 'string' ||
    typeof t.state_key !== 'string' ||
    !isObject(t.content) ||
    !Array.isArray(t.prev_events) ||
    !Array.isArray(t.auth_events) ||
    !Number.isSafeInteger(t.depth)
  ) {
    throw new ForbiddenError('the template lacks a field');
  }
  if (domainOf(t.sender) !== origin) throw new ForbiddenError('the template is for a user of another server');
  return buildEvent(
    {
      roomId: t.room_id,
      sender: t.sender,
      type: t.type,
      stateKey: t.state_key,
      content: t.content,
      prevEvents: t.prev_events.map(String),
      authEvents: t.auth_events.map(String),
      depth: t.depth as number,
      originServerTs: now,
      origin,
    },
    key,
  );
}

export interface SendJoinResponse {
  origin: string;
  auth_chain: Pdu[];
  state: Pdu[];
  event: Pdu;
  members_omitted: false;
  servers_in_room: string[];
}

/**
 * The resident server's answer to send_join v2, once the join is stored: the state before the join,
 * its auth chain, the join itself (with our signatures), the servers in the room.
 */
export function sendJoinResponse(log: RoomLog, joinEventId: string, origin: string): SendJoinResponse {
  const join = log.get(joinEventId);
  if (!join) throw new Error(`${joinEventId} is not stored`);
  const ids = log.stateIds(joinEventId);
  if (!ids) throw new Error(`the state before ${joinEventId} is unknown`);
  const state = ids.pduIds.map((id) => log.get(id)?.event).filter((e): e is RoomEvent => e !== undefined);
  const servers = new Set([origin, ...serversInRoom(log.currentState())]);
  return {
    origin,
    auth_chain: log.authChain([...ids.pduIds, joinEventId]).map(toFederationPdu),
    state: state.map(toFederationPdu),
    event: toFederationPdu(join.event),
    members_omitted: false,
    servers_in_room: [...servers].sort(),
  };
}

/**
 * The joining server, with the send_join answer: verifies every event of the state and auth chain
 * (signatures; an event failing is dropped, and the join fails if the state misses its create or
 * our own join's auth events), stores them as outliers, oldest first, then the join on top of that
 * state. Returns the room's log, now holding the room.
 */
export async function acceptSendJoinResponse(
  store: RoomStore,
  join: RoomEvent,
  response: unknown,
  keyLookup: KeyLookup,
): Promise<RoomLog> {
  if (!isObject(response) || !Array.isArray(response.state) || !Array.isArray(response.auth_chain)) {
    throw new ForbiddenError('send_join answer without state or auth_chain');
  }
  const verified = new Map<string, RoomEvent>();
  const check = async (raw: unknown): Promise<string | undefined> => {
    const v = await verifyEvent(raw, keyLookup);
    if (!v.ok && v.reason !== 'hash') return undefined; // bad signature: dropped
    const pdu = v.ok ? v.pdu : v.redacted;
    if (pdu.room_id !== join.room_id) return undefined;
    verified.set(v.eventId, { ...pdu, event_id: v.eventId });
    return v.eventId;
  };
  for (const raw of response.auth_chain) await check(raw);
  const stateIds = new Set<string>();
  for (const raw of response.state) {
    const id = await check(raw);
    if (id) stateIds.add(id);
  }
  const state = [...stateIds].map((id) => verified.get(id) as RoomEvent);
  if (!state.some((e) => e.type === 'm.room.create'))
    throw new ForbiddenError('the room state has no valid create event');
  const missing = join.auth_events.filter((id) => !verified.has(id));
  if (missing.length > 0)
    throw new ForbiddenError(`auth events of the join missing or invalid: ${missing.join(', ')}`);
  const log = store.openRoom(join.room_id);
  const ordered = [...verified.values()].sort(
    (a, b) => a.depth - b.depth || a.origin_server_ts - b.origin_server_ts,
  );
  for (const ev of ordered) if (!log.has(ev.event_id)) await store.append(ev, { outlier: true });
  const stored = state.map((e) => log.peek(e.event_id)?.event as RoomEvent);
  const verdict = authorizeEvent(join, stateFromEvents(stored));
  if (!verdict.allowed)
    throw new ForbiddenError(`our own join is not allowed by the state handed over: ${verdict.reason}`);
  await store.append(join, { stateBefore: stored });
  return log;
}

/**
 * Invite v2: the invitee's server adds its own signature to the invite event (over the redacted
 * event, like every event signature) before sending it back.
 */
export function addEventSignature<T extends Pdu>(event: T, origin: string, key: SigningKey): T {
  const { event_id: _id, ...pdu } = event as T & { event_id?: string };
  const { signatures } = signJson(redactEvent(pdu as JsonObject), origin, key);
  return { ...event, signatures }; // signJson kept the signatures already there
}
