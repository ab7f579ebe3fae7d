import type { TranscriptEvent } from '@portlab/transcript';

/**
 * Event ids that a restarted web app gives again, the same, to the same events: what lets a browser
 * say "I had everything up to this id" (the SSE `Last-Event-ID` header) and get only what it missed.
 *
 * An id is `<ts>~<key>~<n>`: the event's time, who wrote it (the connection's session id, unique
 * across processes, or `service:<name>` for a service starting or stopping) and how many events of
 * that key came before it in the same millisecond. One session is written by one process, in order,
 * so re-reading the log files after a restart counts the same n for the same event. Nothing is kept
 * in a file: the id is computed from what the logs already hold. The one case it cannot tell apart:
 * a session whose events straddle a log rotation within a single millisecond, read after a restart.
 */
export class EventIds {
  /** The last (ts, n) of each key; a key whose ts is past cannot collide any more. */
  private readonly last = new Map<string, { ts: string; n: number }>();

  next(event: TranscriptEvent): string {
    const key = event.type === 'service' ? `service:${event.service}` : event.session;
    const previous = this.last.get(key);
    const n = previous?.ts === event.ts ? previous.n + 1 : 0;
    if (event.type === 'close') this.last.delete(key);
    else this.last.set(key, { ts: event.ts, n });
    if (this.last.size > MAX_KEYS) this.forgetBefore(event.ts);
    return `${event.ts}~${key}~${n}`;
  }

  /** Sessions whose process died without a close: drop keys not seen for a minute. */
  private forgetBefore(ts: string): void {
    const limit = Date.parse(ts) - 60_000;
    for (const [key, value] of this.last) if (Date.parse(value.ts) < limit) this.last.delete(key);
  }
}

const MAX_KEYS = 10_000;

const ID = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)~[^~\s]+~\d+$/;

/** The time part of an id, in ms since the epoch; null if `id` is not one of ours. */
export function timeOfId(id: string): number | null {
  const match = ID.exec(id);
  return match ? Date.parse(match[1]!) : null;
}
