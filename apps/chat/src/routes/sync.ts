import {
  formatStreamToken,
  type RoomEvent,
  type RoomLog,
  type StoredEvent,
  toClientEvent,
} from '@portlab/matrix';
import type { FastifyInstance } from 'fastify';
import { invalidParam } from '../errors.js';
import type { Home } from '../home.js';
import { members, membership, stateEvent, stateEvents } from '../rooms/room-view.js';
import { strippedState } from '../rooms/stripped-state.js';
import { parseToken } from './rooms.js';

const V3 = '/_matrix/client/v3';
/** A long poll waits at most this long, whatever the client asks: a proxy would cut it anyway. */
const MAX_TIMEOUT_MS = 60_000;
const DEFAULT_TIMELINE_LIMIT = 10;

/**
 * GET /sync (client-server API §"Syncing"): what changed in the user's rooms since `since` (a
 * next_batch this server gave), or everything the client needs to start (no `since`). When nothing
 * changed, the request waits up to `timeout` ms and is answered the moment an event for this user
 * is stored (rooms/notifier.ts): that is how a message appears in the other client at once.
 */
export function syncRoutes(app: FastifyInstance, home: Home): void {
  app.get(`${V3}/sync`, async (request, reply) => {
    const device = home.device(request);
    const query = request.query as Record<string, string | undefined>;
    // A token from the future (made up, or from before the data dir was wiped) counts as now.
    const since =
      query.since !== undefined && query.full_state !== 'true'
        ? Math.min(parseToken(query.since), home.rooms.position)
        : undefined;
    const timeout = Math.min(Math.max(Number.parseInt(query.timeout ?? '0', 10) || 0, 0), MAX_TIMEOUT_MS);
    const view: SyncView = {
      home,
      user: device.user,
      deviceKey: `${device.user}|${device.deviceId}`,
      limit: timelineLimit(home, device.user, query.filter),
    };
    let answer = syncSince(view, since);
    if (since !== undefined && timeout > 0 && isEmpty(answer)) {
      // Wait for the store to move past what was seen (RoomStore.waitFor: woken by each fsync'd
      // event, no polling), then look again: an event in someone else's room leaves this one waiting.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const deadline = Date.now() + timeout;
      let seen = home.rooms.position;
      while (isEmpty(answer) && !gone.signal.aborted) {
        const left = deadline - Date.now();
        if (left <= 0 || !(await home.rooms.store.waitFor(seen, left, gone.signal))) break;
        const news = home.rooms.store.eventsSince(seen);
        seen = home.rooms.position;
        if (news.some((e) => concerns(home, device.user, e.event))) answer = syncSince(view, since);
      }
      // Answered or timed out: next_batch moves past the events that were not this user's.
      if (isEmpty(answer)) answer = syncSince(view, since);
    }
    return answer;
  });
}

interface SyncView {
  home: Home;
  user: string;
  deviceKey: string;
  limit: number;
}

/** Does this event change what the user's /sync shows? Their rooms' events, and their own membership. */
function concerns(home: Home, user: string, event: RoomEvent): boolean {
  if (event.state_key === user) return true;
  const room = home.rooms.room(event.room_id);
  return room !== undefined && membership(room, user) === 'join';
}

/** The timeline limit of the sync filter (an id stored by POST /filter, or the filter's JSON itself). */
function timelineLimit(home: Home, user: string, filter: string | undefined): number {
  if (filter === undefined) return DEFAULT_TIMELINE_LIMIT;
  let value: unknown;
  if (filter.startsWith('{')) {
    try {
      value = JSON.parse(filter);
    } catch {
      throw invalidParam('filter is not valid JSON');
    }
  } else {
    value = home.userData.filter(user, filter);
    if (value === undefined) throw invalidParam(`No filter ${filter}`);
  }
  const limit = (value as { room?: { timeline?: { limit?: unknown } } })?.room?.timeline?.limit;
  return typeof limit === 'number' && limit > 0 ? Math.min(limit, 100) : DEFAULT_TIMELINE_LIMIT;
}

function isEmpty(answer: ReturnType<typeof syncSince>): boolean {
  const { join, invite, leave } = answer.rooms;
  return Object.keys(join).length + Object.keys(invite).length + Object.keys(leave).length === 0;
}

function syncSince(view: SyncView, since: number | undefined) {
  const { home, user } = view;
  const join: Record<string, unknown> = {};
  const invite: Record<string, unknown> = {};
  const leave: Record<string, unknown> = {};
  const nextBatch = home.rooms.position;
  for (const room of home.rooms.allRooms()) {
    const member = stateEvent(room, 'm.room.member', user);
    if (!member) continue;
    const memberPos = room.streamOf(member.event_id) ?? 0;
    // Not on disk yet: the next sync will show it (next_batch stops before it).
    if (memberPos > nextBatch) continue;
    const fresh = since === undefined || memberPos > since;
    const now = member.content.membership;
    if (now === 'join') {
      const section = joinedRoom(view, room, since, fresh, nextBatch);
      if (section) join[room.roomId] = section;
    } else if (now === 'invite' && fresh) {
      invite[room.roomId] = { invite_state: { events: strippedState(stateEvents(room), member) } };
    } else if ((now === 'leave' || now === 'ban') && since !== undefined && fresh) {
      // The room's events up to the user's leaving, then nothing more (§"Syncing", rooms.leave).
      const events = visible(room, user, room.timelineBetween(since, memberPos));
      leave[room.roomId] = { ...timelineOf(view, events), state: { events: [] } };
    }
  }
  return {
    next_batch: formatStreamToken(nextBatch),
    rooms: { join, invite, leave },
    account_data: { events: [] },
    presence: { events: [] },
    to_device: { events: [] },
  };
}

/**
 * A joined room's section: its new events (the last `limit`), and the state before them. A room the
 * user has just joined (or the first sync) gets its whole state, as the client knows nothing of it.
 */
function joinedRoom(view: SyncView, room: RoomLog, since: number | undefined, fresh: boolean, upTo: number) {
  const events = visible(room, view.user, room.timelineBetween(since ?? 0, upTo));
  if (!fresh && events.length === 0) return undefined;
  const timeline = timelineOf(view, events);
  const start = events.length - timeline.timeline.events.length;
  let state: RoomEvent[] = [];
  if (fresh) {
    // The state at the timeline's start (RoomLog.stateAt): what the client needs before the events.
    const first = events[start];
    state = [...room.stateAt(first ? first.stream - 1 : upTo).values()];
  } else if (timeline.timeline.limited) {
    // A gap: the state events the client missed between `since` and the timeline's start.
    const gap = new Map<string, RoomEvent>();
    for (const { event } of events.slice(0, start)) {
      if (typeof event.state_key === 'string') gap.set(`${event.type}\u0000${event.state_key}`, event);
    }
    state = [...gap.values()];
  }
  return {
    ...timeline,
    state: { events: state.map((e) => toClientEvent(e)) },
    ephemeral: { events: [] },
    account_data: { events: [] },
    unread_notifications: { highlight_count: 0, notification_count: 0 },
    summary: {
      'm.joined_member_count': members(room, 'join').length,
      'm.invited_member_count': members(room, 'invite').length,
    },
  };
}

/**
 * The events the user may see (packages/matrix RoomLog.visibleTo: the room's history visibility at
 * each event): what was said before they could see it stays hidden.
 */
function visible(room: RoomLog, user: string, events: StoredEvent[]): StoredEvent[] {
  return events.filter((e) => room.visibleTo(user, e.event.event_id));
}

function timelineOf(view: SyncView, events: StoredEvent[]) {
  const shown = events.slice(-view.limit);
  const first = shown[0];
  return {
    timeline: {
      events: shown.map((e) => {
        // The sending device sees its transaction id: how it matches the event to its local echo.
        const transactionId = view.home.rooms.transactionIdFor(e.event.event_id, view.deviceKey);
        return toClientEvent(e.event, transactionId !== undefined ? { transactionId } : {});
      }),
      // Limited: older new events were left out; prev_batch pages back to them (/messages).
      limited: events.length > shown.length,
      prev_batch: formatStreamToken(first ? first.stream - 1 : view.home.rooms.position),
    },
  };
}
