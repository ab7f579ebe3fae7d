import { CheckedFile, type LabConfig, type UserStore } from '@portlab/config';
import type { Lab, Text } from '@portlab/labs';
import type { TranscriptEvent } from '@portlab/transcript';
import type { EventHub } from '../event-hub.js';
import { OwnConnections } from './own-connections.js';
import { checkStudent, type LabProgress } from './progress.js';
import { ClassSessions, type Connection } from './sessions.js';

/** One student on the board: who, connected now on what, and each lab's check items. */
export interface StudentEntry {
  name: string;
  connected: Connection[];
  /** By lab id ("01" … "06"); empty until the student's first check ran. */
  labs: Record<string, LabProgress>;
  /** When the checks last ran for this student (ISO 8601), or null. */
  checkedAt: string | null;
}

/** How long one round of checks took: the board's cost, said to the teacher and the bench. */
export interface RecomputeTiming {
  students: number;
  ms: number;
  at: string;
}

/** GET /api/class: the whole board. */
export interface ClassSnapshot {
  students: StudentEntry[];
  labs: { id: string; title: Text }[];
  updatedAt: string;
  /** The first round, every student at once (what a full recompute costs), and the latest round. */
  recompute: { full: RecomputeTiming | null; last: RecomputeTiming | null };
}

/** What the board tells its SSE streams: start again from a snapshot, or one student changed. */
export type BoardChange = { type: 'class' } | { type: 'student'; student: StudentEntry; updatedAt: string };

export interface BoardOptions {
  /** A student's checks run at most once per this (their session's events come in bursts). */
  minIntervalMs?: number;
  /** Events no account can be told for (a service ClassSessions does not know) re-check everyone, at most once per this. */
  everyoneIntervalMs?: number;
  /** Students checked at the same time (each check reads logs and files). */
  concurrency?: number;
  /** How often users.json is looked at for students added or removed (`portlab class create`). */
  rosterPollMs?: number;
  /**
   * The most of the time the board may spend checking: after a round that took D ms it rests
   * D × (1 / share − 1) ms. 0.25: a busy class (30 students mailing every 10 s) gets its board
   * a little later rather than slowing the servers the class is using.
   */
  busyShare?: number;
}

/** Connection changes are pushed together, at most this often: a class logging in at once is one push per student. */
const CONNECTIONS_PUSH_MS = 100;

/**
 * The teacher's board: each student's check items (the labs' own checks, `portlab check NN`, run
 * here, where the data is) and who is connected now, kept live.
 *
 * Cheap for a class of 30 × 5 labs: the checks run when an event says a student's work may have
 * changed (see ClassSessions), at most once a second per student, two students at a time; an event
 * of a service it cannot attribute re-checks everyone, at most every 5 s. Started by the first
 * teacher who looks.
 */
export class ClassBoard {
  private started: Promise<void> | null = null;
  private labs: readonly Lab[] = [];
  private roster: string[] = [];
  private rosterSet = new Set<string>();
  /** The students of users.json, read again when a stat shows it changed (none without the file). */
  private readonly students: CheckedFile<string[]>;
  private readonly progress = new Map<string, { labs: Record<string, LabProgress>; checkedAt: string }>();
  private readonly sessions: ClassSessions;
  private own: OwnConnections | null = null;
  private unsubscribe: (() => void) | null = null;
  private startedAt = 0;
  private updatedAt = new Date().toISOString();

  private readonly dirty = new Set<string>();
  private readonly lastRun = new Map<string, number>();
  private everyoneDue: number | null = null;
  private lastEveryone = 0;
  private batch: Promise<void> | null = null;
  /** No round starts before this (see busyShare). */
  private restUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private rosterTimer: NodeJS.Timeout | null = null;
  private readonly connectionsChanged = new Set<string>();
  private pushTimer: NodeJS.Timeout | null = null;
  private full: RecomputeTiming | null = null;
  private last: RecomputeTiming | null = null;
  private closed = false;

  private readonly listeners = new Set<(change: BoardChange) => void>();
  private readonly minIntervalMs: number;
  private readonly everyoneIntervalMs: number;
  private readonly concurrency: number;
  private readonly rosterPollMs: number;
  private readonly busyShare: number;

  constructor(
    private readonly config: LabConfig,
    private readonly hub: EventHub,
    users: UserStore,
    options: BoardOptions = {},
  ) {
    this.sessions = new ClassSessions(config.domain);
    this.minIntervalMs = options.minIntervalMs ?? 1_000;
    this.everyoneIntervalMs = options.everyoneIntervalMs ?? 5_000;
    this.concurrency = options.concurrency ?? 2;
    this.rosterPollMs = options.rosterPollMs ?? 2_000;
    this.busyShare = options.busyShare ?? 0.25;
    this.students = new CheckedFile(users.file, () => {
      try {
        return users.students();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    });
  }

  /** Starts following the class (once): resolves when every student has been checked a first time. */
  start(): Promise<void> {
    this.started ??= this.begin();
    return this.started;
  }

  snapshot(): ClassSnapshot {
    return {
      students: this.roster.map((name) => this.entry(name)),
      labs: this.labs.map((lab) => ({ id: lab.id, title: lab.title })),
      updatedAt: this.updatedAt,
      recompute: { full: this.full, last: this.last },
    };
  }

  /** Calls `listener` on each change of the board, until the returned function is called. */
  subscribe(listener: (change: BoardChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.own?.close();
    for (const t of [this.timer, this.rosterTimer, this.pushTimer]) if (t) clearTimeout(t);
    this.listeners.clear();
  }

  private async begin(): Promise<void> {
    // Loaded on first use: a lab with no class never loads the labs' clients into the web app.
    const { LABS } = await import('@portlab/labs');
    this.labs = LABS;
    this.own = new OwnConnections();
    this.readRoster();
    this.startedAt = Date.now();
    // Every event the hub still holds, and every connection still open: who is connected now. What
    // happened before now is already on disk, where the first round of checks reads it.
    let replaying = true;
    this.unsubscribe = this.hub.subscribe((e) => this.receive(e.event, replaying), {
      tail: Number.MAX_SAFE_INTEGER,
    }).unsubscribe;
    replaying = false;
    await this.runBatch(this.roster, true);
    this.rosterTimer = setInterval(() => this.readRoster(), this.rosterPollMs);
    this.rosterTimer.unref();
    this.schedule();
  }

  private entry(name: string): StudentEntry {
    const p = this.progress.get(name);
    return {
      name,
      connected: this.sessions.connectionsOf(name),
      labs: p?.labs ?? {},
      checkedAt: p?.checkedAt ?? null,
    };
  }

  private emit(change: BoardChange): void {
    for (const l of this.listeners) l(change);
  }

  private receive(event: TranscriptEvent, replaying: boolean): void {
    if (event.type !== 'service' && this.own?.has(event.peer)) {
      // This process's own connection (lab 3's check fetching /~user/): no student's doing.
      this.sessions.forget(event.session);
      return;
    }
    const closing = event.type === 'close' ? this.sessions.accountOf(event.session) : null;
    const touched = this.sessions.receive(event);
    if (event.type === 'login' && event.ok && event.user !== null) this.connectionsOf(event.user);
    if (closing !== null) this.connectionsOf(closing);
    if (event.type === 'service' && event.state !== 'listening') this.connectionsOf(...this.roster);
    if (replaying || Date.parse(event.ts) < this.startedAt) return;
    if (touched === 'all') {
      this.everyoneDue ??= Math.max(Date.now(), this.lastEveryone + this.everyoneIntervalMs);
    } else {
      for (const account of touched.accounts) if (this.rosterSet.has(account)) this.dirty.add(account);
    }
    this.schedule();
  }

  /** Pushes the connections of these students soon, together. */
  private connectionsOf(...accounts: string[]): void {
    for (const a of accounts) if (this.rosterSet.has(a)) this.connectionsChanged.add(a);
    if (this.connectionsChanged.size === 0 || this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      const names = [...this.connectionsChanged];
      this.connectionsChanged.clear();
      this.updatedAt = new Date().toISOString();
      for (const name of names)
        this.emit({ type: 'student', student: this.entry(name), updatedAt: this.updatedAt });
    }, CONNECTIONS_PUSH_MS);
  }

  /** Sets the timer for the next students due, if any and if no round is running. */
  private schedule(): void {
    if (this.closed || this.batch || this.started === null) return;
    let next = this.everyoneDue ?? Number.POSITIVE_INFINITY;
    for (const name of this.dirty) next = Math.min(next, (this.lastRun.get(name) ?? 0) + this.minIntervalMs);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (next === Number.POSITIVE_INFINITY) return;
    next = Math.max(next, this.restUntil);
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - Date.now()));
  }

  private tick(): void {
    this.timer = null;
    const now = Date.now();
    if (this.everyoneDue !== null && this.everyoneDue <= now) {
      this.everyoneDue = null;
      this.lastEveryone = now;
      for (const name of this.roster) this.dirty.add(name);
    }
    const due = [...this.dirty].filter((name) => (this.lastRun.get(name) ?? 0) + this.minIntervalMs <= now);
    for (const name of due) this.dirty.delete(name);
    if (due.length > 0) void this.runBatch(due, false);
    else this.schedule();
  }

  /** One round of checks for `names`, `concurrency` students at a time; one round at a time. */
  private async runBatch(names: string[], full: boolean): Promise<void> {
    const started = Date.now();
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        if (this.closed) return;
        this.lastRun.set(name, Date.now());
        const labs = await checkStudent(this.config, name, this.labs);
        this.store(name, labs);
      }
    };
    this.batch = Promise.all(Array.from({ length: this.concurrency }, worker)).then(() => undefined);
    try {
      await this.batch;
    } finally {
      this.batch = null;
    }
    const ended = Date.now();
    const timing = { students: names.length, ms: ended - started, at: new Date(ended).toISOString() };
    this.restUntil = ended + timing.ms * (1 / this.busyShare - 1);
    this.last = timing;
    if (full) this.full = timing;
    this.schedule();
  }

  private store(name: string, labs: Record<string, LabProgress>): void {
    if (!this.rosterSet.has(name)) return; // removed from the class meanwhile
    const before = this.progress.get(name);
    const checkedAt = new Date().toISOString();
    this.progress.set(name, { labs, checkedAt });
    if (before && JSON.stringify(before.labs) === JSON.stringify(labs)) return;
    this.updatedAt = checkedAt;
    this.emit({ type: 'student', student: this.entry(name), updatedAt: this.updatedAt });
  }

  /** Reads the students from users.json when it changed (`portlab class create` while the lab runs). */
  private readRoster(): void {
    let students: string[];
    try {
      students = this.students.get();
    } catch {
      return; // Being replaced by another tool: read again at the next poll.
    }
    if (students.join('\n') === this.roster.join('\n')) return;
    const added = students.filter((name) => !this.rosterSet.has(name));
    this.roster = students;
    this.rosterSet = new Set(students);
    for (const name of this.progress.keys()) if (!this.rosterSet.has(name)) this.progress.delete(name);
    this.updatedAt = new Date().toISOString();
    if (this.started !== null && this.startedAt !== 0) {
      for (const name of added) this.dirty.add(name);
      this.emit({ type: 'class' });
      this.schedule();
    }
  }
}
