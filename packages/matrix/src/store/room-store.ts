/**
 * The server's rooms: one RoomLog per room under one directory ($DATA/chat/rooms), and the stream
 * of events across them that /sync follows.
 *
 * Stream positions are handed out in order of arrival. An event becomes visible (to /sync,
 * /messages, federation reads) only once it, and every event before it in the stream, is on disk:
 * a client given next_batch=42 must never miss event 41 because 41's fsync finished after 42's.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoomEvent } from '../events/types.js';
import { readNdjson } from './ndjson-file.js';
import { type AppendOptions, type LogLine, RoomLog, type StoredEvent } from './room-log.js';

export interface OpenReport {
  rooms: number;
  events: number;
  /** Bytes cut from the end of logs whose last line a crash had left half-written. */
  tornBytes: number;
}

export class RoomStore {
  readonly #rooms = new Map<string, RoomLog>();
  #assigned = 0;
  readonly #pending = new Set<number>();
  #visible = 0;
  readonly #events = new EventEmitter();

  private constructor(readonly dir: string) {
    // Every long-polling /sync waits here: no listener limit.
    this.#events.setMaxListeners(0);
  }

  /** Opens (creating it if needed) the directory and replays every room log in it. */
  static async open(dir: string): Promise<{ store: RoomStore; report: OpenReport }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new RoomStore(dir);
    const report: OpenReport = { rooms: 0, events: 0, tornBytes: 0 };
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ndjson')).sort();
    for (const f of files) {
      const { records, cut } = await readNdjson(join(dir, f));
      report.tornBytes += cut;
      const lines = records as LogLine[];
      const roomId = lines[0]?.pdu?.room_id;
      if (typeof roomId !== 'string') continue; // an empty log (or cut to nothing)
      const log = store.#room(roomId);
      for (const line of lines) {
        log.replay(line);
        store.#assigned = Math.max(store.#assigned, line.stream);
      }
      report.rooms++;
      report.events += lines.length;
    }
    store.#visible = store.#assigned;
    return { store, report };
  }

  /** The stream position up to which every event is on disk: /sync's next_batch. */
  get position(): number {
    return this.#visible;
  }

  room(roomId: string): RoomLog | undefined {
    return this.#rooms.get(roomId);
  }

  /** The room's log, made empty if this server does not hold the room yet (a remote join). */
  openRoom(roomId: string): RoomLog {
    return this.#room(roomId);
  }

  rooms(): RoomLog[] {
    return [...this.#rooms.values()];
  }

  /**
   * Stores an event (already verified and authorized by the caller) in its room, creating the room
   * log on its first event. Resolves once the line is fsync'd. The same event twice is stored once
   * (the first copy is returned): federation may deliver an event more than once.
   */
  async append(event: RoomEvent, opts: AppendOptions = {}): Promise<StoredEvent> {
    const log = this.#room(event.room_id);
    if (log.has(event.event_id)) {
      // Known, maybe not yet durable: wait for its fsync, then answer with the first copy.
      await this.waitFor((log.streamOf(event.event_id) ?? 1) - 1, 60_000);
      return log.get(event.event_id) ?? Promise.reject(new Error(`${event.event_id} is not on disk`));
    }
    await log.ready(); // a log that cannot be opened fails here, before the event is indexed
    if (log.has(event.event_id)) return this.append(event, opts); // came in while we waited
    const stream = ++this.#assigned;
    const { entry, line } = log.index(event, stream, opts);
    this.#pending.add(stream);
    // If the write fails (disk full…) the stream stays pending: nothing after it becomes visible,
    // so no client is told about an event that is not on disk. Restart the server to recover.
    await log.write(line);
    this.#pending.delete(stream);
    this.#advance();
    return entry;
  }

  /** Every visible timeline event with stream > since, across rooms, oldest first. */
  eventsSince(since: number): StoredEvent[] {
    const all = this.rooms().flatMap((r) => r.timelineBetween(since));
    return all.sort((a, b) => a.stream - b.stream);
  }

  /**
   * Resolves true as soon as the visible position passes `since`, false after `timeoutMs` or when
   * `signal` aborts: the long poll of /sync.
   */
  waitFor(since: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#visible > since) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#events.off('advance', onAdvance);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAdvance = (pos: number) => {
        if (pos > since) done(true);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.#events.on('advance', onAdvance);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits for writes in flight, closes every log. */
  async close(): Promise<void> {
    await Promise.all(this.rooms().map((r) => r.close()));
  }

  #room(roomId: string): RoomLog {
    let log = this.#rooms.get(roomId);
    if (!log) {
      log = new RoomLog(this.dir, roomId, () => this.#visible);
      this.#rooms.set(roomId, log);
    }
    return log;
  }

  #advance(): void {
    let min = this.#assigned + 1;
    for (const s of this.#pending) if (s < min) min = s;
    const visible = min - 1;
    if (visible > this.#visible) {
      this.#visible = visible;
      this.#events.emit('advance', visible);
    }
  }
}

/** Stream positions as tokens for clients ("s42"), and back (undefined if malformed). */
export function formatStreamToken(pos: number): string {
  return `s${pos}`;
}

export function parseStreamToken(token: string | undefined | null): number | undefined {
  if (typeof token !== 'string' || !/^s\d{1,15}$/.test(token)) return undefined;
  return Number(token.slice(1));
}
