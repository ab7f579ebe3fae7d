/**
 * The server-server API this homeserver serves on 8448 (spec.matrix.org, server-server API, room
 * version 10). Every /_matrix/federation request but /version must carry a valid X-Matrix
 * signature (§"Request Authentication"): else 401 M_UNAUTHORIZED and nothing is done. A server
 * reads a room only if one of its users is in it (403 M_FORBIDDEN otherwise).
 */
import {
  addEventSignature,
  domainOf,
  eventIdOf,
  ForbiddenError,
  makeMembershipTemplate,
  type Pdu,
  parseTransaction,
  type RoomEvent,
  type RoomLog,
  sendJoinResponse,
  serversInRoom,
  verifyEvent,
  verifyXMatrixRequest,
  XMatrixError,
} from '@portlab/matrix';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { objectBody } from '../body.js';
import { badJson, forbidden, MatrixError, notFound } from '../errors.js';
import type { Home } from '../home.js';

const FED = '/_matrix/federation';
type P<T> = { Params: T };
/**
 * A transaction holds up to 50 PDUs of up to 65,536 bytes each (§"Transactions", "Size limits"):
 * more than the client API's body limit (server.ts MAX_BODY_BYTES), or a backlog with one large
 * event would be refused (413) at every retry.
 */
const TXN_BODY_LIMIT = 50 * 65_536 + 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The server that signed this federation request (set once X-Matrix is verified). */
    origin: string | undefined;
  }
}

export function federationRoutes(app: FastifyInstance, home: Home): void {
  const fed = home.federation;
  if (!fed) return;
  const rooms = home.rooms;
  app.decorateRequest('origin', undefined);

  // §"Publishing Keys": our key, self-signed; public, unsigned.
  app.get('/_matrix/key/v2/server', async () => fed.keyDocument());
  app.get(`${FED}/v1/version`, async () => ({ server: { name: 'portlab-chat', version: '0.1.0' } }));

  // §"Request Authentication": every other federation request is signed by its origin.
  app.addHook('preHandler', async (request) => {
    const path = request.url.split('?')[0]!;
    if (!path.startsWith(`${FED}/`) || path === `${FED}/v1/version`) return;
    const { origin } = await verifyXMatrixRequest(
      {
        authorization: request.headers.authorization,
        method: request.method,
        uri: request.raw.url ?? request.url, // the request target as sent: what was signed
        content: request.body,
      },
      fed.serverName,
      fed.keys.lookup(),
    ).catch((err: unknown) => {
      if (err instanceof XMatrixError) throw new MatrixError(err.status, err.errcode, err.message);
      throw err;
    });
    request.origin = origin;
    // That server is up: what it missed goes now, not at the queue's next backoff.
    fed.queue.wake(origin);
  });

  // §"Transactions": PDUs each checked and stored (or refused, with the reason); EDUs ignored.
  app.put<P<{ txnId: string }>>(`${FED}/v1/send/:txnId`, { bodyLimit: TXN_BODY_LIMIT }, async (request) => {
    const origin = originOf(request);
    let txn: ReturnType<typeof parseTransaction>;
    try {
      txn = parseTransaction(request.body);
    } catch (err) {
      throw badJson((err as Error).message);
    }
    if (txn.origin !== origin)
      throw forbidden(`the transaction says origin ${txn.origin}, signed by ${origin}`);
    const pdus: Record<string, unknown> = {};
    for (const raw of txn.pdus) {
      const result = await fed.receivePdu(origin, raw);
      const id = result.event?.event_id ?? idOf(raw) ?? `#${Object.keys(pdus).length}`;
      pdus[id] = result.error ? { error: result.error } : {};
    }
    return { pdus };
  });

  // §"Joining Rooms": the template of a join, for a user of the asking server.
  app.get<P<{ roomId: string; userId: string }>>(`${FED}/v1/make_join/:roomId/:userId`, async (request) => {
    const origin = originOf(request);
    const { roomId, userId } = request.params;
    if (domainOf(userId) !== origin) throw forbidden(`${origin} cannot join for ${userId}`);
    const versions = ([] as string[]).concat((request.query as { ver?: string | string[] }).ver ?? ['1']);
    if (!versions.includes('10')) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', 'This room is version 10', {
        room_version: '10',
      });
    }
    try {
      return makeMembershipTemplate(rooms.get(roomId), userId, 'join');
    } catch (err) {
      if (err instanceof ForbiddenError) throw forbidden(err.message);
      throw err;
    }
  });

  // §"Joining Rooms", send_join v2: the join checked and stored, then the state handed over.
  app.put<P<{ roomId: string; eventId: string }>>(`${FED}/v2/send_join/:roomId/:eventId`, async (request) => {
    const origin = originOf(request);
    const log = rooms.get(request.params.roomId);
    const pdu = membershipBody(request.body, 'join', origin);
    const result = await fed.receivePdu(origin, pdu);
    if (result.error) throw forbidden(result.error);
    const join = result.event ?? knownEvent(log, pdu);
    if (!join || join.event_id !== request.params.eventId)
      throw badJson('the event id does not match the event');
    // The resident server passes the join on to the room's other servers (the joining server
    // gets it in this answer: sent to it now, it could arrive before the state it builds on).
    await fed.fanOut(join, origin);
    return sendJoinResponse(log, join.event_id, fed.serverName);
  });

  // §"Leaving Rooms (Rejecting Invites)": the template of a leave, then the leave checked and stored.
  app.get<P<{ roomId: string; userId: string }>>(`${FED}/v1/make_leave/:roomId/:userId`, async (request) => {
    const origin = originOf(request);
    const { roomId, userId } = request.params;
    if (domainOf(userId) !== origin) throw forbidden(`${origin} cannot leave for ${userId}`);
    try {
      return makeMembershipTemplate(rooms.get(roomId), userId, 'leave');
    } catch (err) {
      if (err instanceof ForbiddenError) throw forbidden(err.message);
      throw err;
    }
  });
  app.put<P<{ roomId: string; eventId: string }>>(
    `${FED}/v2/send_leave/:roomId/:eventId`,
    async (request) => {
      const origin = originOf(request);
      rooms.get(request.params.roomId);
      const pdu = membershipBody(request.body, 'leave', origin);
      if (idOf(pdu) !== request.params.eventId) throw badJson('the event id does not match the event');
      const result = await fed.receivePdu(origin, pdu);
      if (result.error) throw forbidden(result.error);
      if (result.event) await fed.fanOut(result.event, origin);
      return {};
    },
  );

  // §"Inviting to a room", v2: an invite of one of our users; we add our signature and keep it.
  app.put<P<{ roomId: string; eventId: string }>>(`${FED}/v2/invite/:roomId/:eventId`, async (request) => {
    const origin = originOf(request);
    const body = objectBody(request.body);
    if (body.room_version !== '10') {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', 'Only room version 10 is supported', {
        room_version: body.room_version,
      });
    }
    const v = await verifyEvent(body.event, fed.keys.lookup());
    if (!v.ok) throw forbidden(`the invite does not verify: ${v.message}`);
    const invite = { ...v.pdu, event_id: v.eventId } as RoomEvent;
    if (
      invite.type !== 'm.room.member' ||
      invite.content.membership !== 'invite' ||
      typeof invite.state_key !== 'string' ||
      invite.room_id !== request.params.roomId ||
      invite.event_id !== request.params.eventId ||
      domainOf(invite.sender) !== origin
    ) {
      throw badJson('not an invite from this server for this room');
    }
    if (!home.localAccount(invite.state_key)) throw notFound(`No user ${invite.state_key} here`);
    const signed = addEventSignature(invite, fed.serverName, home.signingKey);
    // Kept so the invitee's /sync shows it (rooms.invite); the state before it is not ours to know.
    if (!rooms.room(invite.room_id)?.has(invite.event_id))
      await rooms.store.append(signed, { stateBefore: [] });
    const { event_id: _id, unsigned: _u, ...pdu } = signed as RoomEvent & { unsigned?: unknown };
    return { event: pdu };
  });

  // §"Retrieving events": one event, if the asking server is in its room.
  app.get<P<{ eventId: string }>>(`${FED}/v1/event/:eventId`, async (request) => {
    const origin = originOf(request);
    for (const log of rooms.allRooms()) {
      const stored = log.get(request.params.eventId);
      if (!stored) continue;
      readable(log, origin);
      return { origin: fed.serverName, origin_server_ts: Date.now(), pdus: [wire(stored.event)] };
    }
    throw notFound('No such event');
  });

  // §"Retrieving events", get_missing_events: what lies between the asker's latest and earliest.
  app.post<P<{ roomId: string }>>(`${FED}/v1/get_missing_events/:roomId`, async (request) => {
    const log = readable(rooms.get(request.params.roomId), originOf(request));
    const body = objectBody(request.body);
    const ids = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
    const limit = Math.min(Number(body.limit) || 10, 100);
    const minDepth = Number(body.min_depth) || 0;
    return {
      events: log
        .missingEvents(ids(body.earliest_events), ids(body.latest_events), limit, minDepth)
        .map(wire),
    };
  });

  // §"Retrieving events", state_ids: the state before an event and its auth chain, as ids.
  app.get<P<{ roomId: string }>>(`${FED}/v1/state_ids/:roomId`, async (request) => {
    const log = readable(rooms.get(request.params.roomId), originOf(request));
    const eventId = (request.query as { event_id?: string }).event_id;
    const ids = eventId ? log.stateIds(eventId) : undefined;
    if (!ids) throw notFound(`No event ${eventId ?? '(event_id missing)'} in this room`);
    return { pdu_ids: ids.pduIds, auth_chain_ids: ids.authChainIds };
  });

  // §"Backfilling": the events before `v`, newest first.
  app.get<P<{ roomId: string }>>(`${FED}/v1/backfill/:roomId`, async (request) => {
    const log = readable(rooms.get(request.params.roomId), originOf(request));
    const query = request.query as { v?: string | string[]; limit?: string };
    const from = ([] as string[]).concat(query.v ?? []);
    const limit = Math.min(Number(query.limit) || 10, 100);
    return {
      origin: fed.serverName,
      origin_server_ts: Date.now(),
      pdus: log.backfill(from, limit).map(wire),
    };
  });

  // §"Querying directory information": one of our aliases.
  app.get(`${FED}/v1/query/directory`, async (request) => {
    originOf(request);
    const alias = (request.query as { room_alias?: string }).room_alias ?? '';
    const roomId = rooms.resolveAlias(alias);
    if (!roomId) throw notFound(`No room has the alias ${alias}`);
    const log = rooms.room(roomId);
    const servers = new Set([fed.serverName, ...(log ? serversInRoom(log.currentState()) : [])]);
    return { room_id: roomId, servers: [...servers] };
  });
}

function originOf(request: FastifyRequest): string {
  if (!request.origin) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Missing X-Matrix authorization');
  return request.origin;
}

/** The room, if `origin` has a member in it (§"Retrieving events": the server must be in the room). */
function readable(log: RoomLog, origin: string): RoomLog {
  if (!serversInRoom(log.currentState()).includes(origin))
    throw forbidden(`${origin} is not in ${log.roomId}`);
  return log;
}

/** The federation form of a stored event: no event_id, no unsigned. */
function wire(ev: RoomEvent): Pdu {
  const { event_id: _id, unsigned: _u, ...pdu } = ev as RoomEvent & { unsigned?: unknown };
  return pdu as Pdu;
}

function idOf(raw: unknown): string | undefined {
  try {
    return eventIdOf(raw as never);
  } catch {
    return undefined;
  }
}

function knownEvent(log: RoomLog, pdu: unknown): RoomEvent | undefined {
  const id = idOf(pdu);
  return id ? log.get(id)?.event : undefined;
}

/**
 * The body of send_join / send_leave: a membership event of that kind, for a user of the sending
 * server (a server speaks only for its own users).
 */
function membershipBody(
  body: unknown,
  membership: 'join' | 'leave',
  origin: string,
): Record<string, unknown> {
  const pdu = objectBody(body) as { type?: unknown; sender?: unknown; content?: { membership?: unknown } };
  if (
    pdu.type !== 'm.room.member' ||
    pdu.content?.membership !== membership ||
    typeof pdu.sender !== 'string'
  ) {
    throw badJson(`send_${membership} takes a ${membership} event`);
  }
  if (domainOf(pdu.sender) !== origin)
    throw forbidden(`${origin} cannot send a ${membership} for ${pdu.sender}`);
  return pdu;
}
