import { ROOM_VERSION } from '@portlab/matrix';
import type { JsonObject } from '../body.js';
import { badJson, MatrixError } from '../errors.js';
import type { NewEvent } from './room-service.js';

export type Preset = 'private_chat' | 'public_chat' | 'trusted_private_chat';

export interface CreateRequest {
  preset: Preset;
  name?: string;
  topic?: string;
  invite: string[];
  aliasLocalpart?: string;
  creationContent: JsonObject;
  initialState: NewEvent[];
  powerLevelOverride?: JsonObject;
  isDirect: boolean;
}

/** Reads POST /createRoom's body (client-server API §"POST /createRoom"). */
export function parseCreateRequest(body: JsonObject): CreateRequest {
  const str = (key: string) => {
    const v = body[key];
    if (v !== undefined && typeof v !== 'string') throw badJson(`'${key}' must be a string`);
    return v as string | undefined;
  };
  const visibility = str('visibility') ?? 'private';
  const preset = (str('preset') ?? (visibility === 'public' ? 'public_chat' : 'private_chat')) as Preset;
  if (!['private_chat', 'public_chat', 'trusted_private_chat'].includes(preset)) {
    throw badJson(`Unknown preset '${preset}'`);
  }
  const version = str('room_version');
  if (version !== undefined && version !== ROOM_VERSION) {
    throw new MatrixError(
      400,
      'M_UNSUPPORTED_ROOM_VERSION',
      `This server makes rooms of version ${ROOM_VERSION} only`,
    );
  }
  const invite = body.invite ?? [];
  if (!Array.isArray(invite) || !invite.every((u) => typeof u === 'string')) {
    throw badJson("'invite' must be a list of user ids");
  }
  const initial = body.initial_state ?? [];
  if (!Array.isArray(initial)) throw badJson("'initial_state' must be a list of events");
  const initialState = initial.map((e: unknown) => {
    const ev = e as JsonObject;
    if (!ev || typeof ev.type !== 'string' || typeof ev.content !== 'object' || ev.content === null) {
      throw badJson('each initial_state event needs a type and a content object');
    }
    return {
      type: ev.type,
      stateKey: typeof ev.state_key === 'string' ? ev.state_key : '',
      content: ev.content as JsonObject,
    };
  });
  const object = (key: string) => {
    const v = body[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      throw badJson(`'${key}' must be an object`);
    }
    return v as JsonObject | undefined;
  };
  const name = str('name');
  const topic = str('topic');
  const aliasLocalpart = str('room_alias_name');
  const powerLevelOverride = object('power_level_content_override');
  return {
    preset,
    invite: invite as string[],
    creationContent: object('creation_content') ?? {},
    initialState,
    isDirect: body.is_direct === true,
    ...(name !== undefined ? { name } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ...(aliasLocalpart !== undefined ? { aliasLocalpart } : {}),
    ...(powerLevelOverride ? { powerLevelOverride } : {}),
  };
}

/**
 * The events that make a room, in the spec's order (§"POST /createRoom"): create, the creator's
 * join, power levels, canonical alias, the preset's join rules, history visibility and guest access,
 * initial_state, name, topic. Invites are sent after, one by one, as the invited may be refused.
 */
export function roomRecipe(
  request: CreateRequest,
  creator: string,
  displayname: string,
  alias?: string,
): NewEvent[] {
  const trusted = request.preset === 'trusted_private_chat';
  const users: Record<string, number> = { [creator]: 100 };
  // trusted_private_chat: "all invitees are given the same power level as the room creator".
  if (trusted) for (const u of request.invite) users[u] = 100;
  const powerLevels = {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      'm.room.tombstone': 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    ...request.powerLevelOverride,
  };
  const events: NewEvent[] = [
    {
      type: 'm.room.create',
      stateKey: '',
      // Room version 10 still names the creator in the content (rooms/v10 auth rule 1.4).
      content: { ...request.creationContent, creator, room_version: ROOM_VERSION },
    },
    { type: 'm.room.member', stateKey: creator, content: { membership: 'join', displayname } },
    { type: 'm.room.power_levels', stateKey: '', content: powerLevels },
  ];
  if (alias) events.push({ type: 'm.room.canonical_alias', stateKey: '', content: { alias } });
  const publicRoom = request.preset === 'public_chat';
  events.push(
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: publicRoom ? 'public' : 'invite' } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
  );
  if (!publicRoom)
    events.push({ type: 'm.room.guest_access', stateKey: '', content: { guest_access: 'can_join' } });
  events.push(...request.initialState);
  if (request.name !== undefined)
    events.push({ type: 'm.room.name', stateKey: '', content: { name: request.name } });
  if (request.topic !== undefined) {
    events.push({ type: 'm.room.topic', stateKey: '', content: { topic: request.topic } });
  }
  return events;
}
