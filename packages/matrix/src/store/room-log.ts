/**
 * One room: its events in memory, indexed, and their append-only log on disk
 * (`<dir>/<roomId without "!">.ndjson`, one event a line: a student can `cat` it).
 *
 * Indexes, all rebuilt from the log at start: by event ID; by stream order (the server's order of
 * arrival, which /sync and /messages page through); the state after each event; the forward
 * extremities (events nobody points at yet: the prev_events of the next event, server-server
 * "PDUs"); the current state (their states, resolved).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { membershipOf } from '../auth/power-levels.js';
import type { Pdu, RoomEvent } from '../events/types.js';
import { resolveStates } from '../state/resolve.js';
import { applyEvent, type StateMap, stateFromEvents, stateGet } from '../state/state-map.js';
import { NdjsonAppender } from './ndjson-file.js';

/** An event as stored, with its place in the server's stream. */
export interface StoredEvent {
  /** Stream position, unique across the server's rooms, increasing in order of arrival. */
  readonly stream: number;
  readonly event: RoomEvent;
  /** Known but not part of the room's timeline (e.g. state handed over at a remote join). */
  readonly outlier: boolean;
  /** Why the auth rules rejected it (rejected events are kept, never shown nor built upon). */
  readonly rejected?: string;
}

/** One line of the log. */
export interface LogLine {
  stream: number;
  event_id: string;
  outlier?: true;
  rejected?: string;
  /** Only when the state before the event was given (a remote join): the IDs of those state events. */
  state_before?: string[];
  /** The event without its event_id (`Omit<RoomEvent, 'event_id'>` would lose Pdu's fields to its index signature). */
  pdu: Pdu;
}

/**
 * The lines of a room log's text, for readers outside the chat app (the web dashboard, lab checks):
 * they must not repair the file as readNdjson does, so a line that does not parse (the last one,
 * cut by a crash; the first one of a tail read) is skipped.
 */
export function parseLogLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // Cut by a crash (the chat app cuts it at its next start) or by a tail read.
    }
  }
  return lines;
}

export interface AppendOptions {
  outlier?: boolean;
  rejected?: string;
  /**
   * The state before the event, when its prev_events are not known here: the state a remote server
   * handed over with send_join. Those events must have been appended (as outliers) first.
   */
  stateBefore?: Iterable<RoomEvent>;
}

interface Entry extends StoredEvent {
  stateBefore: StateMap | undefined;
  stateAfter: StateMap | undefined;
}

/**
 * A name safe as a file name, still readable: [A-Za-z0-9._:=-] kept, other bytes %xx, a leading
 * "." escaped (no "..", no hidden files).
 */
export function safeFileName(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && /[A-Za-z0-9._:=-]/.test(c) ? c : `%${b.toString(16).padStart(2, '0')}`;
  }
  if (out.startsWith('.')) out = `%2e${out.slice(1)}`;
  // File names stop at 255 bytes: a long (remote, escaped) ID keeps a readable start and a hash.
  if (out.length > 180)
    out = `${out.slice(0, 120)}~${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  return out;
}

/** The log's file name for a room: the room ID without its "!", made safe. */
export function roomFileName(roomId: string): string {
  return `${safeFileName(roomId.startsWith('!') ? roomId.slice(1) : roomId)}.ndjson`;
}

export class RoomLog {
  readonly file: string;
  readonly #byId = new Map<string, Entry>();
  /** Timeline events (not outliers, not rejected), in stream order. */
  readonly #timeline: Entry[] = [];
  readonly #extremities = new Set<string>();
  readonly #referenced = new Set<string>();
  /** user → stream positions of their joins (for history visibility "shared"). */
  readonly #joins = new Map<string, number[]>();
  #current: StateMap | undefined = new Map();
  #maxDepth = 0;
  readonly #appender: NdjsonAppender;

  /** @internal Made by RoomStore; `visible()` is the store's durable stream position. */
  constructor(
    dir: string,
    readonly roomId: string,
    private readonly visible: () => number,
  ) {
    this.file = join(dir, roomFileName(roomId));
    this.#appender = new NdjsonAppender(this.file);
  }

  has(eventId: string): boolean {
    return this.#byId.has(eventId);
  }

  /** The stream position of a known event, durable or not. */
  streamOf(eventId: string): number | undefined {
    return this.#byId.get(eventId)?.stream;
  }

  /** An event by ID (outliers and rejected events included: federation asks for them). */
  get(eventId: string): StoredEvent | undefined {
    const e = this.#byId.get(eventId);
    return e && e.stream <= this.visible() ? e : undefined;
  }

  /**
   * Any event this room holds, on disk yet or not: for checking new events against (never for
   * answering clients or servers, which use get()).
   */
  peek(eventId: string): StoredEvent | undefined {
    return this.#byId.get(eventId);
  }

  /** The event IDs a new event should list as prev_events. */
  forwardExtremities(): string[] {
    return [...this.#extremities];
  }

  /** The greatest depth in the room's timeline (a new event gets this + 1). */
  get maxDepth(): number {
    return this.#maxDepth;
  }

  /** The room's current state: the states after the forward extremities, resolved. */
  currentState(): StateMap {
    this.#current ??= this.stateBefore(this.forwardExtremities());
    return this.#current;
  }

  /** The state before an event with these prev_events (unknown ones are ignored). */
  stateBefore(prevEvents: readonly string[]): StateMap {
    const states: StateMap[] = [];
    for (const id of prevEvents) {
      const e = this.#byId.get(id);
      if (e?.stateAfter && !e.rejected) states.push(e.stateAfter);
    }
    return resolveStates(states);
  }

  /** The state after an event (undefined for outliers and unknown events). */
  stateAfter(eventId: string): StateMap | undefined {
    return this.#byId.get(eventId)?.stateAfter;
  }

  /**
   * May `userId` see this event? Spec: client-server "History visibility", server behaviour, with
   * the state of the room at the event: world_readable; or the user was joined; or "shared" (the
   * default) and the user joined at any point since; or "invited" and the user was invited.
   * For history_visibility changes and the user's own membership changes, the state before or
   * after the event may allow it. Apps filter /messages, /sync and /context with this, so a user
   * never reads what was said before they could see it.
   */
  visibleTo(userId: string, eventId: string): boolean {
    const e = this.#byId.get(eventId);
    if (!e || e.outlier || e.rejected || !e.stateBefore) return false;
    const allows = (state: StateMap): boolean => {
      const hv = stateGet(state, 'm.room.history_visibility', '')?.content.history_visibility;
      const visibility = hv === 'world_readable' || hv === 'joined' || hv === 'invited' ? hv : 'shared';
      const membership = membershipOf(state, userId);
      if (visibility === 'world_readable') return true; // 1
      if (membership === 'join') return true; // 2
      if (visibility === 'shared' && (this.#joins.get(userId) ?? []).some((s) => s >= e.stream)) return true; // 3
      return visibility === 'invited' && membership === 'invite'; // 4
    };
    if (allows(e.stateBefore)) return true;
    const ev = e.event;
    const special =
      ev.type === 'm.room.history_visibility' || (ev.type === 'm.room.member' && ev.state_key === userId);
    return special && e.stateAfter !== undefined && allows(e.stateAfter);
  }

  /**
   * GET /_matrix/federation/v1/state_ids/{roomId}?event_id=: the state before the event (the spec's
   * "prior to considering any state changes induced by the requested event") and its auth chain.
   * Undefined for unknown events and outliers (whose state this server does not know).
   */
  stateIds(eventId: string): { pduIds: string[]; authChainIds: string[] } | undefined {
    const e = this.get(eventId) ? this.#byId.get(eventId) : undefined;
    if (!e?.stateBefore) return undefined;
    const pduIds = [...e.stateBefore.values()].map((ev) => ev.event_id);
    return { pduIds, authChainIds: this.authChain(pduIds).map((ev) => ev.event_id) };
  }

  /**
   * POST /_matrix/federation/v1/get_missing_events/{roomId}: a breadth-first walk back along
   * prev_events from `latest`, not entering `earliest`, up to `limit` events of depth ≥ minDepth;
   * returned oldest first (by depth), so the receiver can process them in order.
   */
  missingEvents(
    earliest: readonly string[],
    latest: readonly string[],
    limit = 10,
    minDepth = 0,
  ): RoomEvent[] {
    return this.#walkBack(latest, new Set([...earliest, ...latest]), limit, minDepth).sort(byDepth);
  }

  /**
   * GET /_matrix/federation/v1/backfill/{roomId}?v=&limit=: the events `from` and those before them,
   * breadth-first along prev_events, up to `limit`, newest first.
   */
  backfill(from: readonly string[], limit: number): RoomEvent[] {
    const start = from.map((id) => this.get(id)?.event).filter((e): e is RoomEvent => e !== undefined);
    const rest = this.#walkBack(from, new Set(from), Math.max(0, limit - start.length), 0);
    return [...start, ...rest].slice(0, limit).sort((a, b) => byDepth(b, a));
  }

  #walkBack(from: readonly string[], seen: Set<string>, limit: number, minDepth: number): RoomEvent[] {
    const out: RoomEvent[] = [];
    let frontier = [...from];
    const cap = Math.max(0, Math.min(limit, 1000));
    while (frontier.length > 0 && out.length < cap) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const p of this.get(id)?.event.prev_events ?? []) {
          if (seen.has(p)) continue;
          seen.add(p);
          const e = this.get(p);
          if (!e || e.event.depth < minDepth) continue;
          out.push(e.event);
          next.push(p);
          if (out.length >= cap) break;
        }
        if (out.length >= cap) break;
      }
      frontier = next;
    }
    return out;
  }

  /** The state after the last timeline event at or before stream position `pos` (for /sync). */
  stateAt(pos: number): StateMap {
    const i = this.#lastIndexAtOrBefore(pos);
    return i < 0 ? new Map() : (this.#timeline[i]?.stateAfter ?? new Map());
  }

  /** Timeline events with after < stream ≤ upTo (default: all that are durable), oldest first. */
  timelineBetween(after: number, upTo = this.visible()): StoredEvent[] {
    const end = Math.min(upTo, this.visible());
    const out: StoredEvent[] = [];
    for (let i = this.#lastIndexAtOrBefore(after) + 1; i < this.#timeline.length; i++) {
      const e = this.#timeline[i] as Entry;
      if (e.stream > end) break;
      out.push(e);
    }
    return out;
  }

  /**
   * /messages pagination over stream positions (a position p lies just after the event of stream p).
   * Backwards: events with stream ≤ from, newest first; forwards: stream > from, oldest first.
   * `end` is the position to continue from, undefined when there is nothing more.
   */
  messages(from: number, dir: 'b' | 'f', limit: number): { events: StoredEvent[]; end: number | undefined } {
    const n = Math.max(0, Math.min(limit, 1000));
    const top = this.visible();
    const events: StoredEvent[] = [];
    if (dir === 'b') {
      for (let i = this.#lastIndexAtOrBefore(Math.min(from, top)); i >= 0 && events.length < n; i--) {
        events.push(this.#timeline[i] as Entry);
      }
      const last = events.at(-1);
      const more = last !== undefined && this.#lastIndexAtOrBefore(last.stream - 1) >= 0;
      return { events, end: more && last ? last.stream - 1 : undefined };
    }
    for (let i = this.#lastIndexAtOrBefore(from) + 1; i < this.#timeline.length && events.length < n; i++) {
      const e = this.#timeline[i] as Entry;
      if (e.stream > top) break;
      events.push(e);
    }
    const last = events.at(-1);
    return { events, end: last ? last.stream : undefined };
  }

  /** Every event reachable through auth_events from these (for send_join and /event_auth). */
  authChain(eventIds: Iterable<string>): RoomEvent[] {
    const seen = new Set<string>();
    const out: RoomEvent[] = [];
    const todo = [...eventIds];
    while (todo.length > 0) {
      const e = this.#byId.get(todo.pop() as string);
      if (!e) continue;
      for (const id of e.event.auth_events) {
        if (seen.has(id)) continue;
        seen.add(id);
        const ae = this.#byId.get(id);
        if (ae) {
          out.push(ae.event);
          todo.push(id);
        }
      }
    }
    return out;
  }

  /** Index position of the last timeline entry with stream ≤ pos (-1 if none): binary search. */
  #lastIndexAtOrBefore(pos: number): number {
    let lo = 0;
    let hi = this.#timeline.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#timeline[mid] as Entry).stream <= pos) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** @internal Adds an event to the indexes (no disk): at append, and when replaying the log. */
  index(event: RoomEvent, stream: number, opts: AppendOptions): { entry: StoredEvent; line: LogLine } {
    const outlier = opts.outlier === true;
    let stateBefore: StateMap | undefined;
    let stateBeforeIds: string[] | undefined;
    if (opts.stateBefore) {
      const given = [...opts.stateBefore];
      for (const ev of given)
        if (!this.#byId.has(ev.event_id)) throw new Error(`state event ${ev.event_id} is not stored`);
      stateBeforeIds = given.map((e) => e.event_id);
      stateBefore = stateFromEvents(given);
      // That state is the state after the event's one prev event (an outlier here, whose state we
      // did not know): remember it, so that an event the resident server sent at the same time,
      // on that same prev event, can be checked too.
      const prev =
        event.prev_events.length === 1 ? this.#byId.get(event.prev_events[0] as string) : undefined;
      if (prev && prev.stateAfter === undefined) prev.stateAfter = stateBefore;
    } else if (!outlier) {
      stateBefore = this.stateBefore(event.prev_events);
    }
    const stateAfter = stateBefore && !opts.rejected ? applyEvent(stateBefore, event) : stateBefore;
    const entry: Entry = { stream, event, outlier, stateBefore, stateAfter };
    if (opts.rejected) (entry as { rejected?: string }).rejected = opts.rejected;
    this.#byId.set(event.event_id, entry);
    if (!outlier && !opts.rejected) {
      this.#timeline.push(entry);
      for (const p of event.prev_events) {
        this.#referenced.add(p);
        this.#extremities.delete(p);
      }
      if (!this.#referenced.has(event.event_id)) this.#extremities.add(event.event_id);
      this.#maxDepth = Math.max(this.#maxDepth, event.depth);
      if (
        event.type === 'm.room.member' &&
        typeof event.state_key === 'string' &&
        event.content.membership === 'join'
      ) {
        const list = this.#joins.get(event.state_key) ?? [];
        list.push(stream);
        this.#joins.set(event.state_key, list);
      }
      this.#current = undefined;
    }
    const { event_id, ...pdu } = event;
    const line: LogLine = { stream, event_id, pdu };
    if (outlier) line.outlier = true;
    if (opts.rejected) line.rejected = opts.rejected;
    if (stateBeforeIds) line.state_before = stateBeforeIds;
    return { entry, line };
  }

  /** @internal Replays one log line at open. */
  replay(line: LogLine): void {
    if (
      !Number.isSafeInteger(line?.stream) ||
      typeof line.event_id !== 'string' ||
      typeof line.pdu !== 'object'
    ) {
      throw new Error(`${this.file}: a line is not a stored event`);
    }
    const event = { ...line.pdu, event_id: line.event_id } as RoomEvent;
    const opts: AppendOptions = {};
    if (line.outlier) opts.outlier = true;
    if (line.rejected) opts.rejected = line.rejected;
    if (line.state_before) {
      opts.stateBefore = line.state_before.map((id) => {
        const e = this.#byId.get(id);
        if (!e) throw new Error(`${this.file}: state event ${id} missing`);
        return e.event;
      });
    }
    this.index(event, line.stream, opts);
  }

  /** @internal Opens the log file, so that failing to do so fails before anything is indexed. */
  async ready(): Promise<void> {
    await this.#appender.ready();
  }

  /** @internal */
  write(line: LogLine): Promise<void> {
    return this.#appender.append(line);
  }

  /** @internal */
  close(): Promise<void> {
    return this.#appender.close();
  }
}

function byDepth(a: RoomEvent, b: RoomEvent): number {
  return a.depth - b.depth || a.origin_server_ts - b.origin_server_ts;
}
