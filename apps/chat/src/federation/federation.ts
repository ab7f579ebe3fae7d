/**
 * This homeserver's side of federation (server-server API): other servers' keys, the outbound
 * transaction queue, receiving PDUs (checked, gaps filled, stored) and joining a room held by
 * another server. The HTTP routes are routes.ts; the outbound HTTPS client is client.ts. The
 * protocol pieces (checks, templates, state hand-over) are @portlab/matrix.
 */
import path from 'node:path';
import {
  acceptSendJoinResponse,
  buildEventFromTemplate,
  checkIncomingPdu,
  domainOf,
  ForbiddenError,
  type Pdu,
  type RoomEvent,
  type RoomLog,
  ServerKeyCache,
  type SigningKey,
  serverKeysResponse,
  serversInRoom,
  TransactionQueue,
  toFederationPdu,
  verifyServerKeys,
} from '@portlab/matrix';
import { forbidden, MatrixError } from '../errors.js';
import type { RoomService } from '../rooms/room-service.js';
import { FederationClient, FederationRequestError } from './client.js';

const FED = '/_matrix/federation';
/** How many events one get_missing_events asks for, and how deep gap filling recurses. */
const MISSING_LIMIT = 50;
const MAX_FILL_DEPTH = 3;

export interface FederationOptions {
  dir: string; // $DATA/chat
  serverName: string;
  key: SigningKey;
  publicAddress: string;
  rooms: RoomService;
  /** Retry delays of the outbound queue (tests shorten them). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Federation {
  readonly client: FederationClient;
  readonly keys: ServerKeyCache;
  readonly serverName: string;
  /** Rooms being joined through send_join: PDUs for them wait until the state is stored. */
  private readonly joining = new Map<string, Promise<unknown>>();

  private constructor(
    readonly options: FederationOptions,
    readonly queue: TransactionQueue,
    client: FederationClient,
    keys: ServerKeyCache,
  ) {
    this.serverName = options.serverName;
    this.client = client;
    this.keys = keys;
  }

  static async open(options: FederationOptions): Promise<Federation> {
    const client = new FederationClient(options.serverName, options.key, options.publicAddress);
    // §"Retrieving server keys": GET /_matrix/key/v2/server of the server itself (no notary).
    const keys = new ServerKeyCache((name) =>
      client.request(name, 'GET', '/_matrix/key/v2/server', undefined, false),
    );
    keys.remember(
      verifyServerKeys(
        serverKeysResponse({ serverName: options.serverName, key: options.key }),
        options.serverName,
      ),
    );
    // §"Transactions": one persisted queue per destination ($DATA/chat/outbox/<server>.ndjson).
    const queue = await TransactionQueue.open({
      dir: path.join(options.dir, 'outbox'),
      origin: options.serverName,
      send: async (dest, txnId, txn) => {
        await client.request(dest, 'PUT', `${FED}/v1/send/${encodeURIComponent(txnId)}`, txn);
      },
      ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
    return new Federation(options, queue, client, keys);
  }

  get rooms(): RoomService {
    return this.options.rooms;
  }

  /** The signed key document this server publishes (§"Publishing Keys"). */
  keyDocument(): unknown {
    return serverKeysResponse({ serverName: this.serverName, key: this.options.key });
  }

  /** After a local event is on disk: queued for every other server with a member in the room. */
  async fanOut(event: RoomEvent, except?: string): Promise<void> {
    const log = this.rooms.room(event.room_id);
    if (!log) return;
    const dests = new Set(serversInRoom(log.currentState()));
    // An invite or a leave/kick concerns a server that may have no joined member (left) any more.
    if (event.type === 'm.room.member' && event.state_key) dests.add(domainOf(event.state_key));
    dests.delete(this.serverName);
    if (except) dests.delete(except);
    if (dests.size > 0) await this.queue.enqueuePdu(dests, toFederationPdu(event));
  }

  /**
   * On start: a signed empty transaction to every server we share a room with. It is a valid
   * transaction that tells them we are back, so their queue toward us (backing off while we were
   * stopped) retries now (TransactionQueue.wake) instead of at its next backoff.
   */
  async announce(): Promise<void> {
    const servers = new Set<string>();
    for (const log of this.rooms.allRooms())
      for (const s of serversInRoom(log.currentState())) servers.add(s);
    servers.delete(this.serverName);
    await Promise.all(
      [...servers].map(
        (dest) =>
          this.client
            .request(dest, 'PUT', `${FED}/v1/send/hello-${Date.now().toString(36)}`, {
              origin: this.serverName,
              origin_server_ts: Date.now(),
              pdus: [],
              edus: [],
            })
            .catch(() => {}), // that server is down: its own start will announce it
      ),
    );
  }

  /**
   * One PDU received from `origin` (a transaction, or send_join): the checks of §"Checks performed
   * on receipt of a PDU" (checkIncomingPdu); if its prev or auth events are unknown they are fetched
   * from `origin` (§"Retrieving events": get_missing_events, /event) and checked first, then the PDU
   * again. Returns undefined when stored, else the reason it was refused (nothing stored).
   */
  async receivePdu(origin: string, raw: unknown, depth = 0): Promise<{ event?: RoomEvent; error?: string }> {
    const roomId = (raw as { room_id?: unknown } | null)?.room_id;
    if (typeof roomId !== 'string') return { error: 'no room_id' };
    // A PDU sent while our join is under way (the resident server's next message) waits for the
    // room's state to be stored: checked before, it would fail for want of the create event.
    await this.joining.get(roomId)?.catch(() => {});
    const log = this.rooms.room(roomId);
    if (!log) return { error: `this server is not in ${roomId}` };
    let v = await checkIncomingPdu(log, raw, this.keys.lookup());
    if (v.action === 'missing' && depth < MAX_FILL_DEPTH) {
      await this.fillGap(origin, log, v.event, v.authEvents, depth);
      // What could not be fetched is left out: the state before is built from the known prevs.
      v = await checkIncomingPdu(log, raw, this.keys.lookup(), { allowMissingPrev: true });
    }
    switch (v.action) {
      case 'accept':
        await this.rooms.store.append(v.event);
        return { event: v.event };
      case 'known':
        return {};
      case 'reject':
        // Kept as rejected (never in the timeline or the state): §"Rejection".
        await this.rooms.store.append(v.event, { rejected: v.reason });
        return { error: `rejected: ${v.reason}` };
      case 'drop':
        return { error: `dropped: ${v.reason}` };
      default:
        return { error: `missing events ${[...v.authEvents, ...v.prevEvents].join(', ')}` };
    }
  }

  /** Fetches what `event` needs from `origin`: the gap of prev_events, then lone auth events. */
  private async fillGap(origin: string, log: RoomLog, event: RoomEvent, authIds: string[], depth: number) {
    try {
      const answer = (await this.client.request(
        origin,
        'POST',
        `${FED}/v1/get_missing_events/${encodeURIComponent(log.roomId)}`,
        {
          earliest_events: log.forwardExtremities(),
          latest_events: [event.event_id],
          limit: MISSING_LIMIT,
          min_depth: 0,
        },
      )) as { events?: unknown[] };
      // Oldest first (the spec's order): each builds on the one before.
      for (const raw of Array.isArray(answer.events) ? answer.events : []) {
        await this.receivePdu(origin, raw, depth + 1);
      }
    } catch (err) {
      console.error(`[chat] get_missing_events from ${origin}: ${(err as Error).message}`);
    }
    for (const id of authIds) {
      if (log.has(id)) continue;
      try {
        const answer = (await this.client.request(
          origin,
          'GET',
          `${FED}/v1/event/${encodeURIComponent(id)}`,
        )) as { pdus?: unknown[] };
        for (const raw of answer.pdus ?? []) await this.receivePdu(origin, raw, depth + 1);
      } catch (err) {
        console.error(`[chat] event ${id} from ${origin}: ${(err as Error).message}`);
      }
    }
  }

  /**
   * A local user joins a room held by other servers (§"Joining Rooms"): make_join at a resident
   * server, our signature on the template, send_join v2, then the state it hands over is checked
   * and stored (acceptSendJoinResponse). Tries each server in turn.
   */
  async joinRemote(roomId: string, userId: string, servers: string[]): Promise<RoomEvent> {
    const earlier = this.joining.get(roomId);
    if (earlier) await earlier.catch(() => {});
    const joined = this.tryJoin(roomId, userId, servers);
    this.joining.set(roomId, joined);
    try {
      return await joined;
    } finally {
      if (this.joining.get(roomId) === joined) this.joining.delete(roomId);
    }
  }

  private async tryJoin(roomId: string, userId: string, servers: string[]): Promise<RoomEvent> {
    let lastError: unknown;
    for (const server of servers.filter((s) => s !== this.serverName)) {
      try {
        const { event: join, response } = await this.makeAndSend(server, 'join', roomId, userId);
        await acceptSendJoinResponse(this.rooms.store, join, response, this.keys.lookup());
        return join;
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof MatrixError) throw lastError;
    if (lastError instanceof ForbiddenError) throw forbidden(lastError.message);
    if (lastError instanceof FederationRequestError && lastError.status === 403) {
      throw forbidden(`the room's server refused: ${JSON.stringify(lastError.body)}`);
    }
    throw new MatrixError(
      502,
      'M_UNKNOWN',
      `could not join ${roomId} through ${servers.join(', ')}: ${(lastError as Error | undefined)?.message ?? 'no server'}`,
    );
  }

  /**
   * The membership handshake with a resident server: make_join / make_leave v1 gives a template,
   * this server fills and signs it, send_join / send_leave v2 hands it back (§"Joining Rooms",
   * §"Leaving Rooms (Rejecting Invites)"). A join asks for room version 10, the only one here.
   */
  private async makeAndSend(
    server: string,
    membership: 'join' | 'leave',
    roomId: string,
    userId: string,
  ): Promise<{ event: RoomEvent; response: unknown }> {
    const room = encodeURIComponent(roomId);
    const template = (await this.client.request(
      server,
      'GET',
      `${FED}/v1/make_${membership}/${room}/${encodeURIComponent(userId)}${membership === 'join' ? '?ver=10' : ''}`,
    )) as { room_version?: string; event?: unknown };
    if (membership === 'join' && template.room_version !== '10')
      throw forbidden(`room version ${template.room_version} is not supported`);
    const event = buildEventFromTemplate(template.event, this.serverName, this.options.key);
    const response = await this.client.request(
      server,
      'PUT',
      `${FED}/v2/send_${membership}/${room}/${encodeURIComponent(event.event_id)}`,
      toFederationPdu(event),
    );
    return { event, response };
  }

  /**
   * A local user rejects an invite to a room this server does not hold (§"Leaving Rooms (Rejecting
   * Invites)"): make_leave at the inviter's server, our signature, send_leave v2; our copy records
   * the leave on top of the invite.
   */
  async leaveRemote(log: RoomLog, userId: string, servers: string[]): Promise<void> {
    let lastError: unknown;
    for (const server of servers.filter((s) => s !== this.serverName)) {
      try {
        const { event: leave } = await this.makeAndSend(server, 'leave', log.roomId, userId);
        await this.rooms.store.append(leave, { stateBefore: [...log.currentState().values()] });
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw forbidden(
      `could not reject the invite: ${(lastError as Error | undefined)?.message ?? 'no server'}`,
    );
  }

  /** §"Querying directory information": an alias of another server → room id and its servers. */
  async resolveRemoteAlias(alias: string): Promise<{ roomId: string; servers: string[] }> {
    const server = alias.slice(alias.indexOf(':') + 1);
    try {
      const answer = (await this.client.request(
        server,
        'GET',
        `${FED}/v1/query/directory?room_alias=${encodeURIComponent(alias)}`,
      )) as { room_id?: unknown; servers?: unknown };
      if (typeof answer.room_id !== 'string') throw new Error('no room_id');
      const servers = Array.isArray(answer.servers)
        ? answer.servers.filter((s) => typeof s === 'string')
        : [];
      return { roomId: answer.room_id, servers: servers.length > 0 ? servers : [server] };
    } catch (err) {
      if (err instanceof FederationRequestError && err.status === 404) {
        throw new MatrixError(404, 'M_NOT_FOUND', `No room has the alias ${alias}`);
      }
      throw new MatrixError(
        502,
        'M_UNKNOWN',
        `cannot ask ${server} about ${alias}: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Invite v2 of a remote user (§"Inviting to a room"): the invitee's server adds its signature
   * and answers the event, which we then store like any event of ours.
   */
  async inviteRemote(event: RoomEvent, log: RoomLog): Promise<RoomEvent> {
    const invitee = event.state_key as string;
    const answer = (await this.client
      .request(
        domainOf(invitee),
        'PUT',
        `${FED}/v2/invite/${encodeURIComponent(event.room_id)}/${encodeURIComponent(event.event_id)}`,
        {
          room_version: '10',
          event: toFederationPdu(event),
          invite_room_state: strippedOf(log),
        },
      )
      .catch((err: Error) => {
        throw forbidden(`${domainOf(invitee)} refused the invite: ${err.message}`);
      })) as { event?: Pdu };
    const signed = answer.event;
    const theirs = signed?.signatures?.[domainOf(invitee)];
    if (!signed || !theirs) throw forbidden('the invitee server did not sign the invite');
    // Only signatures may differ: the event we made, with both servers' signatures.
    return { ...event, signatures: { ...event.signatures, [domainOf(invitee)]: theirs } };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** The stripped state an invite carries (§"Stripped state"): enough to show the room's name. */
function strippedOf(log: RoomLog): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const ev of log.currentState().values()) {
    if (
      [
        'm.room.create',
        'm.room.name',
        'm.room.join_rules',
        'm.room.canonical_alias',
        'm.room.topic',
      ].includes(ev.type)
    ) {
      out.push({ type: ev.type, state_key: ev.state_key, sender: ev.sender, content: ev.content });
    }
  }
  return out;
}
