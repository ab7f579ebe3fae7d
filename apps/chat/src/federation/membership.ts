/**
 * What the client-server API's /join and /invite do when the room or the user is on another
 * server: the federation half of routes/rooms.ts (which calls these first).
 */
import { domainOf, ForbiddenError, makeEvent, type RoomLog } from '@portlab/matrix';
import { forbidden, MatrixError } from '../errors.js';
import type { Home } from '../home.js';
import { membership, stateEvent } from '../rooms/room-view.js';

/**
 * /join/{roomIdOrAlias} for a room held elsewhere: an alias of another server is asked of it
 * (query/directory), a room this server does not hold (or holds only an invite to) is joined
 * through make_join/send_join. Undefined when the room is local: the usual join applies.
 */
export async function remoteJoin(
  home: Home,
  user: string,
  idOrAlias: string,
  query: unknown,
): Promise<{ room_id: string } | undefined> {
  const fed = home.federation;
  if (!fed) return undefined;
  const viaQuery = ([] as unknown[])
    .concat((query as { server_name?: unknown; via?: unknown } | undefined)?.server_name ?? [])
    .concat((query as { via?: unknown } | undefined)?.via ?? [])
    .filter((s): s is string => typeof s === 'string');
  let roomId = idOrAlias;
  const servers = [...viaQuery];
  if (idOrAlias.startsWith('#')) {
    const server = idOrAlias.slice(idOrAlias.indexOf(':') + 1);
    if (server === home.serverName) return undefined;
    const found = await fed.resolveRemoteAlias(idOrAlias);
    roomId = found.roomId;
    servers.push(...found.servers);
  } else if (!idOrAlias.startsWith('!')) {
    return undefined;
  }
  const log = home.rooms.room(roomId);
  // Held with its state (a local user is in it): the local join makes and sends the event.
  if (log && stateEvent(log, 'm.room.create', '')) return undefined;
  // Not held, or only an invite: the inviter's server, the room's own server.
  const invite = log && stateEvent(log, 'm.room.member', user);
  if (invite) servers.push(domainOf(invite.sender));
  servers.push(domainOf(roomId));
  const unique = [...new Set(servers)].filter((s) => s !== home.serverName);
  if (unique.length === 0) return undefined;
  await fed.joinRemote(roomId, user, unique);
  return { room_id: roomId };
}

/**
 * /rooms/{id}/invite of a user of another server (§"Inviting to a room", v2): the invite is made
 * and signed here, the invitee's server adds its signature, then it is stored and sent to the
 * room's servers like any local event.
 */
export async function inviteRemote(
  home: Home,
  room: RoomLog,
  sender: string,
  invitee: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const fed = home.federation;
  if (!fed) throw forbidden('federation is off');
  if (membership(room, invitee) === 'join') throw forbidden(`${invitee} is already in the room`);
  let event: ReturnType<typeof makeEvent>;
  try {
    event = makeEvent(
      room,
      {
        roomId: room.roomId,
        sender,
        type: 'm.room.member',
        stateKey: invitee,
        content: { ...extra, membership: 'invite' },
      },
      { origin: home.serverName, key: home.signingKey },
    );
  } catch (err) {
    if (err instanceof ForbiddenError) throw forbidden(err.message);
    throw err;
  }
  const signed = await fed.inviteRemote(event, room);
  if (signed.event_id !== event.event_id)
    throw new MatrixError(500, 'M_UNKNOWN', 'the invite changed in transit');
  await home.rooms.store.append(signed);
  await fed.fanOut(signed);
}

/**
 * /rooms/{id}/leave of an invite to a room this server does not hold (rejecting it): through the
 * inviter's server (make_leave/send_leave). False when the room is held: the usual leave applies.
 */
export async function remoteLeave(home: Home, user: string, roomId: string): Promise<boolean> {
  const log = home.rooms.room(roomId);
  if (!home.federation || !log || stateEvent(log, 'm.room.create', '')) return false;
  const invite = stateEvent(log, 'm.room.member', user);
  if (invite?.content.membership !== 'invite') return false;
  await home.federation.leaveRemote(log, user, [domainOf(invite.sender), domainOf(roomId)]);
  return true;
}
