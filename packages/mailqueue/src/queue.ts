import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DirectorySync, writeDurably } from '@portlab/mailstore';

/**
 * The outbound mail queue, our own small Postfix queue ($DATA/queue/, docs/architecture.md "Data"):
 *
 *   queue/<id>.msg     one line of JSON, the envelope (who from, to whom, for which domain, when
 *                      it arrived), then the message exactly as it will be sent. Written to tmp/,
 *                      fsync'ed, renamed here and the directory fsync'ed before the submission
 *                      server answers 250 (RFC 5321 §6.1: once it says 250, the message is ours).
 *   queue/<id>.state   what the retries learnt: attempts, when to try next, the last error, the
 *                      recipients still to deliver. Absent until a first attempt failed.
 *   queue/tmp/         files being written; what a crash left there is deleted at start.
 *
 * An entry leaves the queue only when the next server has said 250 to its DATA (or when it is
 * bounced): see `remove`. Students can `ls` and `cat` it all, as `mailq` and `postcat` would show.
 */

export interface Envelope {
  /** The queue id, also in the Received header this server added (and in the transcript). */
  id: string;
  /** MAIL FROM; '' for a bounce, which is never bounced in turn (RFC 5321 §4.5.5). */
  from: string;
  /** RCPT TO, every one in `domain`. */
  to: string[];
  /** The one recipient domain of this entry: one entry per destination, as Postfix's queue manager splits them. */
  domain: string;
  /** When the message was accepted: its age decides when it is bounced. */
  arrived: string;
}

export interface DeliveryState {
  attempts: number;
  /** ISO time of the next try. */
  nextAttempt: string;
  lastError?: string;
  /** Recipients still to deliver (the others were accepted or refused for good). */
  to: string[];
}

export interface QueueEntry {
  envelope: Envelope;
  state: DeliveryState;
}

const ENVELOPE_END = 0x0a; // the envelope is one line of JSON

export class MailQueue {
  private readonly tmp: string;
  private readonly sync: DirectorySync;
  private readonly byId = new Map<string, QueueEntry>();

  constructor(readonly dir: string) {
    this.tmp = path.join(dir, 'tmp');
    this.sync = new DirectorySync(dir);
  }

  /**
   * Makes the folders and reads back every entry left by the last run: mail queued before a crash
   * (or a kill -9) is still to deliver. Half-written files in tmp/ were never acknowledged: deleted.
   */
  async open(): Promise<QueueEntry[]> {
    await mkdir(this.tmp, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.tmp)) await rm(path.join(this.tmp, name), { force: true });
    this.byId.clear();
    for (const name of (await readdir(this.dir)).sort()) {
      if (!name.endsWith('.msg')) continue;
      const id = name.slice(0, -'.msg'.length);
      try {
        const { envelope } = await this.read(id);
        const state = await this.readState(id, envelope);
        this.byId.set(id, { envelope, state });
      } catch (err) {
        console.error(`[queue] ${name}: unreadable, left in place: ${(err as Error).message}`);
      }
    }
    return this.entries();
  }

  entries(): QueueEntry[] {
    return [...this.byId.values()];
  }

  get(id: string): QueueEntry | undefined {
    return this.byId.get(id);
  }

  /** A new queue id: time first, so `ls` lists the queue in arrival order, then random. */
  newId(): string {
    return `${Date.now().toString(36).toUpperCase()}${randomBytes(5).toString('hex').toUpperCase()}`;
  }

  /**
   * Queues a message, durably: when this resolves, the file and its name are on disk, and the
   * server may answer 250. `envelope.id` comes from `newId()` (the Received header names it).
   */
  async enqueue(envelope: Envelope, message: Buffer): Promise<QueueEntry> {
    if (!envelope.to.length) throw new Error('a queue entry needs at least one recipient');
    const head = Buffer.from(`${JSON.stringify(envelope)}\n`);
    const tmpFile = path.join(this.tmp, `${envelope.id}.msg`);
    await writeDurably(tmpFile, Buffer.concat([head, message]));
    await rename(tmpFile, this.msgFile(envelope.id));
    await this.sync.sync();
    const entry: QueueEntry = {
      envelope,
      state: { attempts: 0, nextAttempt: envelope.arrived, to: [...envelope.to] },
    };
    this.byId.set(envelope.id, entry);
    return entry;
  }

  /** The envelope and the message bytes of an entry. */
  async read(id: string): Promise<{ envelope: Envelope; message: Buffer }> {
    const data = await readFile(this.msgFile(id));
    const end = data.indexOf(ENVELOPE_END);
    if (end < 0) throw new Error('no envelope line');
    const envelope = JSON.parse(data.subarray(0, end).toString('utf8')) as Envelope;
    return { envelope, message: data.subarray(end + 1) };
  }

  /**
   * Records a failed attempt. `durable`: fsync it, when the recipients still to deliver changed
   * (some were accepted): losing that would send them the message again. A lost retry time only
   * means an earlier retry, so the common case skips the fsync.
   */
  async defer(id: string, state: DeliveryState, durable: boolean): Promise<void> {
    const entry = this.byId.get(id);
    if (!entry) return;
    entry.state = state;
    const tmpFile = path.join(this.tmp, `${id}.state`);
    if (durable) {
      await rm(tmpFile, { force: true });
      await writeDurably(tmpFile, Buffer.from(JSON.stringify(state)));
    } else {
      await writeFile(tmpFile, JSON.stringify(state));
    }
    await rename(tmpFile, this.stateFile(id));
    if (durable) await this.sync.sync();
  }

  /**
   * Takes an entry off the queue: after the next server's 250 to DATA, or after its bounce was
   * delivered. The .msg file goes first: once its name is gone, no restart sends it again.
   *
   * The window where a message can be delivered twice: the remote server said 250, and this
   * process dies before the unlink below. On restart the entry is still here and is sent again.
   * Every MTA has this window (RFC 1047, "Duplicate messages and SMTP"; Postfix documents the
   * same): it is kept as short as one unlink, with nothing awaited between reading the 250 and
   * calling this. The unlink is not fsync'ed, as Postfix does not: a process killed (kill -9) after
   * it has the file gone for good; only a power cut right after could bring the entry back, and
   * then it is sent twice, never lost.
   */
  async remove(id: string): Promise<void> {
    this.byId.delete(id);
    await unlink(this.msgFile(id)).catch(ignoreMissing);
    await unlink(this.stateFile(id)).catch(ignoreMissing);
  }

  private async readState(id: string, envelope: Envelope): Promise<DeliveryState> {
    try {
      const state = JSON.parse(await readFile(this.stateFile(id), 'utf8')) as DeliveryState;
      if (Array.isArray(state.to) && typeof state.attempts === 'number') return state;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return { attempts: 0, nextAttempt: envelope.arrived, to: [...envelope.to] };
  }

  private msgFile(id: string): string {
    return path.join(this.dir, `${id}.msg`);
  }

  private stateFile(id: string): string {
    return path.join(this.dir, `${id}.state`);
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

/**
 * Exponential backoff (as Postfix's minimal_backoff_time .. maximal_backoff_time): the wait after
 * the nth failed attempt is firstDelayMs × 2^(n-1), at most maxDelayMs.
 */
export function retryDelay(attempts: number, retry: { firstDelayMs: number; maxDelayMs: number }): number {
  return Math.min(retry.maxDelayMs, retry.firstDelayMs * 2 ** Math.max(0, attempts - 1));
}
