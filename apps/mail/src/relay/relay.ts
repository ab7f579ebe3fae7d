import type { Resolver } from 'node:dns/promises';
import { clientSourceAddress, type LabConfig, labPort } from '@portlab/config';
import { type Envelope, MailQueue, type QueueEntry, retryDelay } from '@portlab/mailqueue';
import type { MailStore } from '@portlab/mailstore';
import { Transcript } from '@portlab/transcript';
import { bounceMessage, type Failure, headerSection } from './bounce.js';
import { classResolver, DeliveryError, mailHosts } from './mx.js';
import { OutboundSession, type Outcome } from './outbound.js';

/**
 * Connections open at once to one destination, as Postfix's default_destination_concurrency_limit.
 * Each carries one message after the other; several at once let the next lab's group-committed
 * fsyncs cover several messages each.
 */
const PER_DESTINATION = 20;
/** How long an MX answer is reused: a lab that moved is found again within this time. */
const MX_CACHE_MS = 30_000;
/**
 * How long a connection with nothing to send waits for the next message before QUIT (Postfix:
 * smtp_connection_cache_time_limit, 2 s): mail sent a message at a time reuses it too.
 */
const IDLE_KEEP_MS = 2000;

/**
 * The relay: mail an authenticated user sent to another lab's domain (pc07.lab.test), queued in
 * $DATA/queue/ (packages/mailqueue), then delivered to that domain's MX, port 25 + the offset, by
 * SMTP. A failed attempt is tried again after an exponential backoff; a message still not
 * delivered after `mail.relay.maxAgeSeconds`, or refused for good (5yz), goes back to its sender as
 * a bounce (RFC 3464), put straight in the sender's INBOX (senders are always local: submission
 * lets a user send only as themselves). Every attempt's SMTP dialogue is in the `relay` transcript.
 */
export class Relay {
  readonly queue: MailQueue;
  private readonly resolver: Resolver;
  private readonly transcript: Transcript;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Entries whose time has come, per destination domain, in order; the domain's connections take them. */
  private readonly due = new Map<string, string[]>();
  /** Connections open per destination domain. */
  private readonly workers = new Map<string, number>();
  /** Connections kept open with nothing to send, per domain: a new due entry wakes one. */
  private readonly idle = new Map<string, (() => void)[]>();
  private readonly mxCache = new Map<string, { hosts: string[]; until: number }>();
  private stopped = false;

  constructor(
    private readonly config: LabConfig,
    private readonly store: MailStore,
    options: { resolver?: Resolver } = {},
  ) {
    this.queue = new MailQueue(config.paths.queue);
    this.resolver = options.resolver ?? classResolver(config);
    this.transcript = new Transcript('relay', labPort(25, config.portOffset), {
      logDir: config.paths.log,
      ...config.transcript,
    });
  }

  /** Reads back what the last run left in the queue (a crash, a kill -9) and schedules it. */
  async start(): Promise<void> {
    const left = await this.queue.open();
    if (left.length) console.log(`[mail] relay: ${left.length} message(s) left in the queue, delivering`);
    for (const entry of left) this.schedule(entry);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Queues a message for remote recipients: one entry per domain, each durable before this
   * resolves (the caller answers 250 after it). `received(id, to)` is the Received header this hop
   * adds, naming the entry's queue id. Resolves with the queue ids.
   */
  async submit(
    from: string,
    recipients: string[],
    message: Buffer,
    received: (id: string, to: string[]) => Buffer,
  ): Promise<string[]> {
    const byDomain = new Map<string, string[]>();
    for (const rcpt of recipients) {
      const domain = rcpt.slice(rcpt.lastIndexOf('@') + 1).toLowerCase();
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), rcpt]);
    }
    const entries = await Promise.all(
      [...byDomain].map(([domain, to]) => {
        const id = this.queue.newId();
        const envelope: Envelope = { id, from, to, domain, arrived: new Date().toISOString() };
        return this.queue.enqueue(envelope, Buffer.concat([received(id, to), message]));
      }),
    );
    for (const entry of entries) this.schedule(entry);
    return entries.map((e) => e.envelope.id);
  }

  private schedule(entry: QueueEntry): void {
    const { id, domain } = entry.envelope;
    if (this.stopped || this.timers.has(id)) return;
    const expires = Date.parse(entry.envelope.arrived) + this.config.mail.relay.maxAgeSeconds * 1000;
    // Never wait past the message's expiry: the last try comes then, and a bounce if it fails.
    const at = Math.min(Date.parse(entry.state.nextAttempt), expires);
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        const list = this.due.get(domain) ?? [];
        list.push(id);
        this.due.set(domain, list);
        const idle = this.idle.get(domain)?.shift();
        if (idle) return idle();
        const open = this.workers.get(domain) ?? 0;
        if (open < PER_DESTINATION && open < list.length) void this.work(domain);
      },
      Math.max(0, at - Date.now()),
    );
    this.timers.set(id, timer);
  }

  /**
   * One connection to a domain's mail host, carrying its due entries one after the other until
   * none is left for IDLE_KEEP_MS (or the connection breaks). Whatever happens to an entry, if it is still queued
   * afterwards it is scheduled again.
   */
  private async work(domain: string): Promise<void> {
    this.workers.set(domain, (this.workers.get(domain) ?? 0) + 1);
    const due = this.due.get(domain)!;
    let connection: OutboundSession | undefined;
    let noConnection: { reply: string; permanent: boolean; status?: string } | undefined;
    const open = async () => {
      connection?.close();
      connection = undefined;
      try {
        connection = await this.connect(domain);
      } catch (err) {
        const permanent = err instanceof DeliveryError && err.permanent;
        noConnection = {
          reply: (err as Error).message,
          permanent,
          ...(permanent ? { status: err.status } : {}),
        };
      }
    };
    try {
      await open();
      while (!this.stopped) {
        let id = due.shift();
        if (id === undefined && connection?.usable) {
          await this.idleFor(domain);
          id = due.shift();
        }
        if (id === undefined) break;
        // A connection the server closed after some messages (a restart, a timeout): one new one.
        if (connection && !connection.usable) await open();
        try {
          const entry = this.queue.get(id);
          if (!entry) continue;
          const { envelope, message } = await this.queue.read(id);
          const to = entry.state.to;
          let outcome: Outcome;
          if (connection?.usable) {
            outcome = await connection.send({ from: envelope.from, to }, message);
          } else {
            const reply = noConnection?.reply ?? 'the connection was lost';
            const failures = to.map((rcpt) => ({ rcpt, reply, status: noConnection?.status }));
            const permanent = noConnection?.permanent ?? false;
            outcome = {
              accepted: [],
              refused: permanent ? failures : [],
              deferred: permanent ? [] : failures,
            };
          }
          await this.settle(entry, outcome, message);
        } catch (err) {
          // The disk, not the network (a queue file unreadable, a full disk): wait as after a failure.
          console.error(`[mail] relay: ${id}: ${(err as Error).message}`);
          this.postpone(id);
        } finally {
          const left = this.queue.get(id);
          if (left) this.schedule(left);
        }
      }
    } finally {
      connection?.close();
      this.workers.set(domain, (this.workers.get(domain) ?? 1) - 1);
    }
  }

  /** Resolves when an entry for `domain` is due, or after IDLE_KEEP_MS. */
  private idleFor(domain: string): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.idle.get(domain) ?? [];
      this.idle.set(domain, waiters);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(wake), 1);
        resolve();
      }, IDLE_KEEP_MS);
      waiters.push(wake);
    });
  }

  /** A connection to the first of the domain's mail hosts that answers (RFC 5321 §5.1). */
  private async connect(domain: string): Promise<OutboundSession> {
    const cached = this.mxCache.get(domain);
    let hosts = cached && cached.until > Date.now() ? cached.hosts : undefined;
    if (!hosts) {
      hosts = await mailHosts(domain, this.resolver);
      this.mxCache.set(domain, { hosts, until: Date.now() + MX_CACHE_MS });
    }
    let lastError = '';
    for (const address of hosts) {
      try {
        return await OutboundSession.open({
          address,
          port: labPort(25, this.config.portOffset),
          name: this.config.domain,
          localAddress: clientSourceAddress(this.config),
          timeoutMs: this.config.mail.relay.connectTimeoutMs,
          transcript: this.transcript,
        });
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    throw new DeliveryError(lastError, false);
  }

  private postpone(id: string): void {
    const entry = this.queue.get(id);
    if (!entry) return;
    const attempts = entry.state.attempts + 1;
    const delay = retryDelay(attempts, this.config.mail.relay.retry);
    entry.state = { ...entry.state, attempts, nextAttempt: new Date(Date.now() + delay).toISOString() };
  }

  /**
   * What an attempt leaves: nothing more to do -> off the queue (straight after the 250, see
   * MailQueue.remove); recipients refused for good -> a bounce now; some still to try -> the entry
   * deferred with a longer wait (work() schedules it again), or bounced if it is too old.
   */
  private async settle(entry: QueueEntry, outcome: Outcome, message: Buffer): Promise<void> {
    const { envelope, state } = entry;
    const failures: Failure[] = outcome.refused.map((r) => ({
      rcpt: r.rcpt,
      reply: r.reply,
      status: statusOf(r.reply, r.status ?? '5.0.0'),
    }));
    const expired = Date.now() >= Date.parse(envelope.arrived) + this.config.mail.relay.maxAgeSeconds * 1000;
    if (!outcome.deferred.length || expired) {
      await this.queue.remove(envelope.id);
      for (const d of outcome.deferred) {
        // RFC 3463 4.4.7: delivery time expired.
        failures.push({
          rcpt: d.rcpt,
          reply: `gave up after ${state.attempts + 1} attempts: ${d.reply}`,
          status: '4.4.7',
        });
      }
    } else {
      const attempts = state.attempts + 1;
      const delay = retryDelay(attempts, this.config.mail.relay.retry);
      const to = outcome.deferred.map((d) => d.rcpt);
      await this.queue.defer(
        envelope.id,
        {
          attempts,
          nextAttempt: new Date(Date.now() + delay).toISOString(),
          lastError: outcome.deferred[0]!.reply,
          to,
        },
        // Some recipients were served: the shorter list must survive a crash, or they get it twice.
        to.length !== state.to.length,
      );
    }
    if (failures.length) await this.bounce(envelope, failures, message);
  }

  /**
   * A bounce to the sender's INBOX; never for a bounce itself (MAIL FROM:<>, RFC 5321 §4.5.5).
   * It counts against the sender's quota as any delivery does (room held first, as SMTP does): a
   * bounce goes with a null reverse-path (RFC 5321 §6.1) so that no notification ever answers it
   * (§4.5.5), so one that would pass the quota is dropped, with a line on the console, and not
   * bounced again nor retried. The message it is about left the queue already: nothing else is lost.
   */
  private async bounce(envelope: Envelope, failures: Failure[], message: Buffer): Promise<void> {
    if (!envelope.from) return;
    const at = envelope.from.lastIndexOf('@');
    const user = envelope.from.slice(0, at).toLowerCase();
    const report = bounceMessage({
      envelope,
      failures,
      domain: this.config.domain,
      originalHeaders: headerSection(message),
    });
    const bounce = Buffer.concat([Buffer.from('Return-Path: <>\r\n'), report]);
    let release: () => void;
    try {
      release = await this.store.hold([user], bounce.length, 'the bounce needs');
    } catch (err) {
      if ((err as { code?: string }).code !== 'OVER_QUOTA') throw err;
      console.log(
        `[mail] relay: ${envelope.id} not delivered to ${failures.map((f) => f.rcpt).join(', ')}; the bounce to ${envelope.from} is dropped: ${(err as Error).message}`,
      );
      return;
    }
    try {
      await this.store.deliver(user, bounce);
    } finally {
      release();
    }
    console.log(
      `[mail] relay: ${envelope.id} bounced to ${envelope.from} (${failures.map((f) => f.rcpt).join(', ')})`,
    );
  }
}

/** The enhanced status code in a reply ("550 5.1.1 no such user" -> 5.1.1), else `fallback`. */
function statusOf(reply: string, fallback: string): string {
  return /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})/.exec(reply)?.[1] ?? fallback;
}
