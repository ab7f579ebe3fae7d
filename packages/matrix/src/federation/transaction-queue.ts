/**
 * The outbound federation queue: one queue per destination server, persisted, sent as transactions
 * with retry and exponential backoff, so a server that was stopped catches up when it returns.
 * Spec: server-server "Transactions" (PUT /_matrix/federation/v1/send/{txnId}; at most 50 PDUs and
 * 100 EDUs each). The HTTP call itself is the caller's `send` function: this class is pure queueing.
 *
 * On disk: `<dir>/<destination>.ndjson`, lines `{"pdu":{…}}` (queued) and `{"acked":n}` (the n
 * oldest were delivered); the file is emptied whenever the queue is. EDUs (typing, receipts) are
 * ephemeral and kept in memory only.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pdu } from '../events/types.js';
import { isObject } from '../signing.js';
import { NdjsonAppender, readNdjson } from '../store/ndjson-file.js';
import { safeFileName } from '../store/room-log.js';

export const MAX_PDUS_PER_TXN = 50;
export const MAX_EDUS_PER_TXN = 100;

export interface Edu {
  edu_type: string;
  content: Record<string, unknown>;
}

export interface Transaction {
  origin: string;
  origin_server_ts: number;
  pdus: Pdu[];
  edus: Edu[];
}

/** Sends one transaction; resolves on a 200, rejects on anything else (then it is retried). */
export type SendTransaction = (destination: string, txnId: string, txn: Transaction) => Promise<void>;

export interface TransactionQueueOptions {
  /** Where the queues live, e.g. $DATA/chat/outbox. */
  dir: string;
  /** Our server name. */
  origin: string;
  send: SendTransaction;
  /** First retry delay (default 1 s), doubled after each failure up to maxBackoffMs (default 5 min). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

export interface DestinationStatus {
  destination: string;
  pending: number;
  /** Failures in a row (0: healthy). */
  failures: number;
  /** When the next try is due (ms since epoch), if backing off. */
  retryAt?: number;
  lastError?: string;
}

interface Destination {
  name: string;
  pdus: Pdu[];
  edus: Edu[];
  file: NdjsonAppender;
  failures: number;
  retryAt?: number;
  timer?: NodeJS.Timeout;
  sending: boolean;
  lastError?: string;
}

export class TransactionQueue {
  readonly #dests = new Map<string, Destination>();
  readonly #opts: Required<Omit<TransactionQueueOptions, 'now'>> & { now: () => number };
  // Unique across restarts: the start time, then a counter.
  readonly #txnPrefix = Date.now().toString(36);
  #txnCounter = 0;
  #closed = false;
  readonly #idleWaiters: (() => void)[] = [];

  private constructor(opts: TransactionQueueOptions) {
    this.#opts = { minBackoffMs: 1000, maxBackoffMs: 5 * 60_000, now: Date.now, ...opts };
  }

  /** Opens the queue directory, reloads what was not delivered, and starts sending it. */
  static async open(opts: TransactionQueueOptions): Promise<TransactionQueue> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const q = new TransactionQueue(opts);
    for (const f of (await readdir(opts.dir)).filter((n) => n.endsWith('.ndjson')).sort()) {
      const { records } = await readNdjson(join(opts.dir, f));
      let name: string | undefined;
      const pdus: Pdu[] = [];
      for (const r of records) {
        if (!isObject(r)) continue;
        if (typeof r.destination === 'string') name = r.destination;
        if (isObject(r.pdu)) pdus.push(r.pdu as Pdu);
        if (Number.isSafeInteger(r.acked)) pdus.splice(0, r.acked as number);
      }
      if (!name) continue;
      const d = q.#dest(name);
      d.pdus.push(...pdus);
      if (d.pdus.length > 0) q.#kick(d);
    }
    return q;
  }

  /**
   * Queues a PDU for each destination (our own name is skipped); resolves once it is on disk in
   * every queue, so it survives a crash. Sending starts at once unless a destination is backing off.
   */
  async enqueuePdu(destinations: Iterable<string>, pdu: Pdu): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const name of new Set(destinations)) {
      if (name === this.#opts.origin || this.#closed) continue;
      const d = this.#dest(name);
      d.pdus.push(pdu);
      writes.push(d.file.append({ pdu }));
    }
    await Promise.all(writes);
    for (const name of new Set(destinations)) {
      const d = this.#dests.get(name);
      if (d) this.#kick(d);
    }
  }

  /** Queues an EDU (not persisted: typing notices and receipts are not worth replaying). */
  enqueueEdu(destinations: Iterable<string>, edu: Edu): void {
    for (const name of new Set(destinations)) {
      if (name === this.#opts.origin || this.#closed) continue;
      const d = this.#dest(name);
      d.edus.push(edu);
      if (d.edus.length > 10 * MAX_EDUS_PER_TXN) d.edus.splice(0, d.edus.length - 10 * MAX_EDUS_PER_TXN);
      this.#kick(d);
    }
  }

  /**
   * We just heard from `destination` (it sent us a request): it is up, so forget the backoff and
   * send now. This is how a restarted server gets its missed events without waiting minutes.
   */
  wake(destination: string): void {
    const d = this.#dests.get(destination);
    if (!d || d.failures === 0) return;
    d.failures = 0;
    d.retryAt = undefined;
    if (d.timer) clearTimeout(d.timer);
    d.timer = undefined;
    this.#kick(d);
  }

  status(): DestinationStatus[] {
    return [...this.#dests.values()].map((d) => {
      const s: DestinationStatus = {
        destination: d.name,
        pending: d.pdus.length + d.edus.length,
        failures: d.failures,
      };
      if (d.retryAt !== undefined) s.retryAt = d.retryAt;
      if (d.lastError !== undefined) s.lastError = d.lastError;
      return s;
    });
  }

  pending(destination: string): number {
    const d = this.#dests.get(destination);
    return d ? d.pdus.length + d.edus.length : 0;
  }

  /** Resolves when every queue is empty (for tests and a clean shutdown). */
  drained(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops sending (what is queued stays on disk for the next start). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const d of this.#dests.values()) if (d.timer) clearTimeout(d.timer);
    while ([...this.#dests.values()].some((d) => d.sending)) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...this.#dests.values()].map((d) => d.file.close()));
  }

  #dest(name: string): Destination {
    let d = this.#dests.get(name);
    if (!d) {
      d = {
        name,
        pdus: [],
        edus: [],
        file: new NdjsonAppender(join(this.#opts.dir, `${safeFileName(name)}.ndjson`)),
        failures: 0,
        sending: false,
      };
      // The first line names the destination (file names are escaped).
      void d.file.append({ destination: name }).catch(() => {});
      this.#dests.set(name, d);
    }
    return d;
  }

  #kick(d: Destination): void {
    if (this.#closed || d.sending || d.timer) return;
    if (d.pdus.length === 0 && d.edus.length === 0) return;
    void this.#sendOne(d);
  }

  async #sendOne(d: Destination): Promise<void> {
    d.sending = true;
    const pdus = d.pdus.slice(0, MAX_PDUS_PER_TXN);
    const edus = d.edus.slice(0, MAX_EDUS_PER_TXN);
    const txnId = `${this.#txnPrefix}_${++this.#txnCounter}`;
    const txn: Transaction = { origin: this.#opts.origin, origin_server_ts: this.#opts.now(), pdus, edus };
    try {
      await this.#opts.send(d.name, txnId, txn);
      d.pdus.splice(0, pdus.length);
      d.edus.splice(0, edus.length);
      d.failures = 0;
      d.retryAt = undefined;
      d.lastError = undefined;
      // Record the delivery; when nothing is left, start the file afresh (keeping its name line).
      if (pdus.length > 0) {
        if (d.pdus.length === 0) {
          await d.file.truncate();
          await d.file.append({ destination: d.name });
        } else await d.file.append({ acked: pdus.length });
      }
    } catch (err) {
      d.failures++;
      d.lastError = (err as Error).message ?? String(err);
      const delay = Math.min(this.#opts.maxBackoffMs, this.#opts.minBackoffMs * 2 ** (d.failures - 1));
      d.retryAt = this.#opts.now() + delay;
      d.timer = setTimeout(() => {
        d.timer = undefined;
        d.retryAt = undefined;
        this.#kick(d);
      }, delay);
      d.timer.unref?.();
    } finally {
      d.sending = false;
    }
    this.#kick(d);
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #isIdle(): boolean {
    return [...this.#dests.values()].every((d) => d.pdus.length === 0 && d.edus.length === 0 && !d.sending);
  }
}

/**
 * Checks an incoming transaction body (PUT /send/{txnId}) before looking at its PDUs: the shape and
 * the 50/100 limits. Throws an Error whose message can go in an M_BAD_JSON answer.
 */
export function parseTransaction(body: unknown): { origin: string; pdus: unknown[]; edus: unknown[] } {
  if (!isObject(body)) throw new Error('a transaction is a JSON object');
  if (typeof body.origin !== 'string') throw new Error('origin missing');
  if (!Array.isArray(body.pdus)) throw new Error('pdus missing');
  const edus = body.edus === undefined ? [] : body.edus;
  if (!Array.isArray(edus)) throw new Error('edus must be a list');
  if (body.pdus.length > MAX_PDUS_PER_TXN) throw new Error(`more than ${MAX_PDUS_PER_TXN} PDUs`);
  if (edus.length > MAX_EDUS_PER_TXN) throw new Error(`more than ${MAX_EDUS_PER_TXN} EDUs`);
  return { origin: body.origin, pdus: body.pdus, edus };
}
