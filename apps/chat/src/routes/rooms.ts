import { formatStreamToken, parseStreamToken, type RoomLog, toClientEvent } from '@portlab/matrix';
import type { FastifyInstance } from 'fastify';
import { objectBody, requiredString } from '../body.js';
import { badJson, forbidden, invalidParam, MatrixError, notFound } from '../errors.js';
import { inviteRemote, remoteJoin, remoteLeave } from '../federation/membership.js';
import type { Home } from '../home.js';
import { parseCreateRequest, roomRecipe } from '../rooms/create-room.js';
import { members, membership, stateEvent, stateEvents } from '../rooms/room-view.js';
import { localpartOf } from './account.js';

const V3 = '/_matrix/client/v3';
type P<T> = { Params: T };

/**
 * Rooms (client-server API §"Rooms", §"Room membership", §"Sending events", §"Getting events for a
 * room"). Every change is an event that packages/matrix builds and signs and the room service
 * stores (rooms/room-service.ts); the authorization rules of room version 10 decide what is allowed.
 */
export function roomRoutes(app: FastifyInstance, home: Home): void {
  const rooms = home.rooms;

  app.post(`${V3}/createRoom`, async (request) => {
    const { user } = home.device(request);
    const wanted = parseCreateRequest(objectBody(request.body));
    let alias: string | undefined;
    if (wanted.aliasLocalpart !== undefined) {
      if (!/^[a-z0-9._=\-/]+$/i.test(wanted.aliasLocalpart)) {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'room_alias_name has characters an alias cannot have');
      }
      alias = `#${wanted.aliasLocalpart}:${home.serverName}`;
      if (rooms.resolveAlias(alias))
        throw new MatrixError(400, 'M_ROOM_IN_USE', `The alias ${alias} is taken`);
    }
    for (const invitee of wanted.invite) home.checkUserId(invitee);
    const roomId = rooms.newRoomId();
    // Each event chains on the one before as soon as it is made; the writes share their fsyncs.
    const made = roomRecipe(wanted, user, displayNameOf(home, user), alias).map((event) =>
      rooms.send(roomId, user, event),
    );
    const remote = wanted.invite.filter((u) => !u.endsWith(`:${home.serverName}`));
    for (const invitee of wanted.invite) {
      if (remote.includes(invitee)) continue; // federation, once the room exists (below)
      made.push(
        rooms.send(roomId, user, memberEvent(invitee, 'invite', wanted.isDirect ? { is_direct: true } : {})),
      );
    }
    await Promise.all(made);
    for (const invitee of remote) {
      const extra = wanted.isDirect ? { is_direct: true } : {};
      await inviteRemote(home, rooms.get(roomId), user, invitee, extra).catch((err: Error) =>
        console.error(`[chat] invite of ${invitee}: ${err.message}`),
      );
    }
    if (alias) rooms.setAlias(alias, roomId);
    return { room_id: roomId };
  });

  // §"Joining rooms": by id or alias; the room's join rules (or an invite) decide.
  app.post<P<{ roomIdOrAlias: string }>>(`${V3}/join/:roomIdOrAlias`, async (request) => {
    const { user } = home.device(request);
    const remote = await remoteJoin(home, user, request.params.roomIdOrAlias, request.query);
    return remote ?? join(home, user, findRoom(home, request.params.roomIdOrAlias));
  });
  app.post<P<{ roomId: string }>>(`${V3}/rooms/:roomId/join`, async (request) => {
    const { user } = home.device(request);
    const remote = await remoteJoin(home, user, request.params.roomId, request.query);
    return remote ?? join(home, user, findRoom(home, request.params.roomId));
  });

  app.post<P<{ roomId: string }>>(`${V3}/rooms/:roomId/invite`, async (request) => {
    const { user } = home.device(request);
    const invitee = requiredString(objectBody(request.body), 'user_id');
    home.checkUserId(invitee);
    const room = rooms.joined(request.params.roomId, user);
    if (!invitee.endsWith(`:${home.serverName}`))
      return inviteRemote(home, room, user, invitee).then(() => ({}));
    if (membership(room, invitee) === 'join') throw forbidden(`${invitee} is already in the room`);
    await rooms.send(room.roomId, user, memberEvent(invitee, 'invite'));
    return {};
  });

  app.post<P<{ roomId: string }>>(`${V3}/rooms/:roomId/leave`, async (request) => {
    const { user } = home.device(request);
    if (await remoteLeave(home, user, request.params.roomId)) return {}; // rejecting a remote invite
    const room = rooms.get(request.params.roomId);
    const now = membership(room, user);
    if (now !== 'join' && now !== 'invite') throw forbidden('You are not in this room');
    await rooms.send(room.roomId, user, memberEvent(user, 'leave'));
    return {};
  });

  app.put<P<{ roomId: string; type: string; txnId: string }>>(
    `${V3}/rooms/:roomId/send/:type/:txnId`,
    async (request) => {
      const device = home.device(request);
      const room = rooms.joined(request.params.roomId, device.user);
      const content = objectBody(request.body);
      const event = await rooms.send(
        room.roomId,
        device.user,
        { type: request.params.type, content },
        { deviceKey: `${device.user}|${device.deviceId}`, txnId: request.params.txnId },
      );
      return { event_id: event.event_id };
    },
  );

  // §"Room state": GET all of it, GET one (type, state_key), PUT one. The state key may be empty,
  // with or without the last slash: the wildcard takes "type" or "type/key".
  app.get<P<{ roomId: string }>>(`${V3}/rooms/:roomId/state`, async (request) => {
    const { user } = home.device(request);
    return stateEvents(rooms.joined(request.params.roomId, user)).map((e) => toClientEvent(e));
  });
  app.get<P<{ roomId: string; '*': string }>>(`${V3}/rooms/:roomId/state/*`, async (request) => {
    const { user } = home.device(request);
    const room = rooms.joined(request.params.roomId, user);
    const [type, stateKey] = splitState(request.params['*']);
    const event = stateEvent(room, type, stateKey);
    if (!event) throw notFound(`No ${type} state with key '${stateKey}' in this room`);
    return event.content;
  });
  app.put<P<{ roomId: string; '*': string }>>(`${V3}/rooms/:roomId/state/*`, async (request) => {
    const { user } = home.device(request);
    const room = rooms.joined(request.params.roomId, user);
    const [type, stateKey] = splitState(request.params['*']);
    // Membership changes have their own endpoints, which check more (§"Room membership").
    if (type === 'm.room.member' && stateKey !== user)
      throw forbidden('Use /invite, /kick or /ban for others');
    const event = await rooms.send(room.roomId, user, { type, stateKey, content: objectBody(request.body) });
    return { event_id: event.event_id };
  });

  app.get<P<{ roomId: string }>>(`${V3}/rooms/:roomId/members`, async (request) => {
    const { user } = home.device(request);
    const room = rooms.joined(request.params.roomId, user);
    return {
      chunk: stateEvents(room)
        .filter((e) => e.type === 'm.room.member')
        .map((e) => toClientEvent(e)),
    };
  });
  app.get<P<{ roomId: string }>>(`${V3}/rooms/:roomId/joined_members`, async (request) => {
    const { user } = home.device(request);
    const room = rooms.joined(request.params.roomId, user);
    const joined: Record<string, unknown> = {};
    for (const member of members(room, 'join')) {
      joined[member] = {
        display_name: stateEvent(room, 'm.room.member', member)?.content.displayname ?? null,
      };
    }
    return { joined };
  });

  app.get(`${V3}/joined_rooms`, async (request) => {
    const { user } = home.device(request);
    return {
      joined_rooms: rooms
        .allRooms()
        .filter((r) => membership(r, user) === 'join')
        .map((r) => r.roomId),
    };
  });

  // §"Room aliases": a local alias names a room of this server.
  app.get<P<{ alias: string }>>(`${V3}/directory/room/:alias`, async (request) => {
    const roomId = rooms.resolveAlias(request.params.alias);
    if (!roomId) throw notFound(`No room has the alias ${request.params.alias}`);
    return { room_id: roomId, servers: [home.serverName] };
  });

  app.get<P<{ roomId: string }>>(`${V3}/rooms/:roomId/messages`, async (request) => {
    const { user } = home.device(request);
    return messages(
      home,
      rooms.joined(request.params.roomId, user),
      request.query as Record<string, string>,
      user,
    );
  });

  app.get<P<{ roomId: string; eventId: string }>>(`${V3}/rooms/:roomId/event/:eventId`, async (request) => {
    const { user } = home.device(request);
    const stored = rooms.joined(request.params.roomId, user).get(request.params.eventId);
    if (!stored || !rooms.joined(request.params.roomId, user).visibleTo(user, stored.event.event_id)) {
      throw notFound('No such event in this room');
    }
    return toClientEvent(stored.event);
  });

  // Typing and read receipts are accepted and not passed on (issue #16: "may be minimal").
  app.put<P<{ roomId: string; userId: string }>>(`${V3}/rooms/:roomId/typing/:userId`, async (request) => {
    const { user } = home.device(request);
    if (request.params.userId !== user) throw forbidden('You can only say that you are typing');
    rooms.joined(request.params.roomId, user);
    return {};
  });
  app.post(`${V3}/rooms/:roomId/receipt/:receiptType/:eventId`, async (request) => {
    home.device(request);
    return {};
  });
  app.post(`${V3}/rooms/:roomId/read_markers`, async (request) => {
    home.device(request);
    return {};
  });
}

function memberEvent(userId: string, membership: string, extra: Record<string, unknown> = {}) {
  return { type: 'm.room.member', stateKey: userId, content: { membership, ...extra } };
}

function displayNameOf(home: Home, userId: string): string {
  return home.userData.displayName(userId) ?? localpartOf(userId);
}

function findRoom(home: Home, idOrAlias: string): RoomLog {
  if (idOrAlias.startsWith('#')) {
    const roomId = home.rooms.resolveAlias(idOrAlias);
    if (!roomId) throw notFound(`No room has the alias ${idOrAlias}`);
    return home.rooms.get(roomId);
  }
  if (!idOrAlias.startsWith('!')) throw invalidParam(`'${idOrAlias}' is neither a room id nor an alias`);
  // A room of another server was joined before this (federation/membership.ts remoteJoin).
  return home.rooms.get(idOrAlias);
}

async function join(home: Home, user: string, room: RoomLog) {
  if (membership(room, user) !== 'join') {
    await home.rooms.send(
      room.roomId,
      user,
      memberEvent(user, 'join', { displayname: displayNameOf(home, user) }),
    );
  }
  return { room_id: room.roomId };
}

function splitState(rest: string): [string, string] {
  const slash = rest.indexOf('/');
  const type = slash < 0 ? rest : rest.slice(0, slash);
  const stateKey = slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1));
  if (type === '') throw badJson('The event type is missing');
  return [decodeURIComponent(type), stateKey];
}

/**
 * §"GET /rooms/{roomId}/messages": a page of the room's events from a stream token, backwards
 * (dir=b, newest first) or forwards (dir=f). Tokens are "s<position>", the point just after that
 * event of the server's stream (the same tokens as /sync's next_batch and prev_batch).
 */
function messages(home: Home, room: RoomLog, query: Record<string, string>, user: string) {
  const dir = query.dir ?? 'b';
  if (dir !== 'b' && dir !== 'f') throw invalidParam("dir must be 'b' or 'f'");
  const limit = Math.min(Math.max(Number.parseInt(query.limit ?? '10', 10) || 10, 1), 1000);
  const from = query.from !== undefined ? parseToken(query.from) : dir === 'b' ? home.rooms.position : 0;
  const page = room.messages(from, dir, limit);
  return {
    start: formatStreamToken(from),
    chunk: page.events
      .filter((e) => room.visibleTo(user, e.event.event_id))
      .map((e) => toClientEvent(e.event)),
    ...(page.end !== undefined ? { end: formatStreamToken(page.end) } : {}),
  };
}

export function parseToken(token: string): number {
  const pos = parseStreamToken(token);
  if (pos === undefined) throw invalidParam(`Bad pagination token '${token}'`);
  return pos;
}
