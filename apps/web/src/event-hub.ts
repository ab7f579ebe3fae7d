import { followTranscripts, type TranscriptEvent } from '@portlab/transcript';
import { EventIds, timeOfId } from './event-id.js';
import { type AttributedEvent, type SecretOwner, SecretOwners } from './secret-owners.js';
import { SessionAccounts } from './session-accounts.js';

/**
 * A transcript event with the id it carries on the SSE stream (see event-id.ts); on a credentials
 * line, whose secret it is (see secret-owners.ts); on a line said after a login, whose session it is
 * (see session-accounts.ts). The stream masks both for everyone else (mask.ts).
 */
export interface StreamEvent {
  id: string;
  event: TranscriptEvent;
  owner?: SecretOwner;
  account?: string;
}

type Listener = (event: StreamEvent) => void;

/** Where a new subscriber starts: from now on, with the last `tail` events, or after an id it had. */
export type StartAt = { tail: number } | { after: string } | 'now';

export interface HubOptions {
  /** How many recent events are kept for replay (bounded memory). */
  keep?: number;
}

/**
 * Log files are written by several processes and read every 100 ms, so events do not reach the hub
 * in time order across services: one written just before the last event a browser saw may come after
 * it. A resume therefore replays from a little before that event; the browser drops ids it has.
 */
const RESUME_MARGIN_MS = 2_000;

/** Open connections remembered at most (see `open`). */
const MAX_OPEN = 2_000;

/**
 * One follower of $DATA/log shared by every SSE client: the files are read once, whatever the number
 * of browsers watching. It starts with the first subscriber and reads the logs from their start, so
 * that after a restart of the web app it holds again the events a browser may have missed, under the
 * same ids; it keeps the last `keep` of them.
 */
export class EventHub {
  private readonly listeners = new Set<Listener>();
  private readonly ids = new EventIds();
  private recent: StreamEvent[] = [];
  /**
   * The `open` event of each connection still open, however old: a page opened late, or reloaded,
   * still draws every live connection. A service that stops cuts its connections (its process may
   * have no time to write their `close`), so its entries go then.
   */
  private readonly open = new Map<string, StreamEvent>();
  /** True once an event had to be dropped from `recent`: a resume from before it may miss some. */
  private dropped = false;
  private readonly keep: number;
  private follower: { close(): void } | null = null;
  /** Every event passes through it: a credentials line waits there until its owner is known. */
  private readonly owners = new SecretOwners((e) => this.receive(e));
  /** Then through this, in session order: which account each session is logged in as. */
  private readonly accounts = new SessionAccounts();

  constructor(
    private readonly logDir: string,
    options: HubOptions = {},
  ) {
    this.keep = options.keep ?? 20_000;
  }

  /**
   * Calls `listener` with the events asked for by `start`, then with each new event. `missed` is true
   * when the resume point is older than what the hub still holds: some events may be lost to this client.
   */
  subscribe(listener: Listener, start: StartAt = 'now'): { unsubscribe(): void; missed: boolean } {
    this.follower ??= followTranscripts({ logDir: this.logDir, fromStart: true }, (event) =>
      this.owners.receive(event),
    );
    const { events, missed } = this.replay(start);
    for (const e of events) listener(e);
    this.listeners.add(listener);
    return { unsubscribe: () => this.listeners.delete(listener), missed };
  }

  close(): void {
    this.follower?.close();
    this.follower = null;
    this.listeners.clear();
  }

  /** An event whose owner, if it needs one, is known: it gets its id here, in session order. */
  private receive({ event, owner }: AttributedEvent): void {
    const account = this.accounts.receive(event);
    const e: StreamEvent = {
      id: this.ids.next(event),
      event,
      ...(owner !== undefined ? { owner } : {}),
      ...(account !== undefined && event.type === 'line' ? { account } : {}),
    };
    this.recent.push(e);
    this.trackOpen(e);
    // Trimmed in batches, so that keeping the window costs no copy per event.
    if (this.recent.length > this.keep * 1.25) {
      this.recent = this.recent.slice(-this.keep);
      this.dropped = true;
    }
    for (const l of this.listeners) l(e);
  }

  private trackOpen(e: StreamEvent): void {
    const { event } = e;
    if (event.type === 'open') this.open.set(event.session, e);
    if (event.type === 'close') this.open.delete(event.session);
    if (event.type === 'service' && event.state !== 'listening') {
      for (const [session, { event: o }] of this.open) {
        if (o.service === event.service && o.port === event.port) this.open.delete(session);
      }
    }
    // A process killed with SIGKILL closes nothing: keep the newest connections only.
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
  }

  private replay(start: StartAt): { events: StreamEvent[]; missed: boolean } {
    if (start === 'now') return { events: [], missed: false };
    if ('tail' in start) {
      const tail = start.tail === 0 ? [] : this.recent.slice(-start.tail);
      const inTail = new Set(tail.map((e) => e.id));
      const stillOpen = [...this.open.values()].filter((e) => !inTail.has(e.id));
      return { events: [...stillOpen, ...tail], missed: false };
    }
    const since = timeOfId(start.after);
    if (since === null) throw new Error(`'${start.after}' is not an event id`);
    const from = since - RESUME_MARGIN_MS;
    const events = this.recent.filter((e) => e.id !== start.after && Date.parse(e.event.ts) >= from);
    const oldest = this.recent[0];
    const missed = this.dropped && (!oldest || Date.parse(oldest.event.ts) > from);
    return { events, missed };
  }
}
