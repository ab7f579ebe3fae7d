import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeDurably } from './durable.js';
import { INFO_SEPARATOR, infoOfFlags } from './flags.js';
import { uniqueName } from './names.js';

/**
 * Writing messages into a folder, the Maildir way (https://cr.yp.to/proto/maildir.html), as
 * Dovecot's maildir-save does: the bytes go to tmp/ under a unique name and are flushed; a rename
 * then puts the whole message in place at once, into new/ for a delivery (no client has seen it)
 * or into cur/ with its flags for APPEND and COPY (the client chose them); the directory is
 * fsynced before anyone is told. A crash at any point loses nothing acknowledged and shows nothing
 * half-written: readers never look in tmp/.
 */

/** A message flushed to tmp/, waiting to be renamed into place. */
export interface InTmp {
  id: string;
  tmp: string;
}

/** Step 1: a new file in tmp/, its data flushed (fdatasync). Nothing is left behind if it fails. */
export async function writeToTmp(dir: string, message: Buffer, mtime?: Date): Promise<InTmp> {
  const id = uniqueName(message.length);
  const tmp = path.join(dir, 'tmp', id);
  try {
    await writeDurably(tmp, message, mtime);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { id, tmp };
}

/** The name of a message in cur/: its unique name, then its flags (`:2,FS`). */
export function curName(id: string, flags: Iterable<string>): string {
  return `${id}${INFO_SEPARATOR}${infoOfFlags(flags)}`;
}

/**
 * Step 2 for a set of messages that must all arrive or none (RFC 3502 §6.3.11 for MULTIAPPEND; an
 * APPEND is a set of one): renames each from tmp/ into `sub`. If one fails, the ones already moved
 * are removed again, and every file of the set left in tmp/ too.
 */
export async function moveAllInto(
  dir: string,
  sub: 'new' | 'cur',
  messages: readonly (InTmp & { file: string })[],
): Promise<void> {
  let moved = 0;
  try {
    for (const m of messages) {
      await rename(m.tmp, path.join(dir, sub, m.file));
      moved++;
    }
  } catch (err) {
    await removeAll(dir, sub, messages.slice(0, moved));
    await Promise.all(messages.slice(moved).map((m) => unlink(m.tmp).catch(() => undefined)));
    throw err;
  }
}

/** Undoes moveAllInto: the files go (an APPEND that failed after its rename stores nothing). */
export async function removeAll(
  dir: string,
  sub: 'new' | 'cur',
  messages: readonly { file: string }[],
): Promise<void> {
  await Promise.all(messages.map((m) => unlink(path.join(dir, sub, m.file)).catch(() => undefined)));
}

/**
 * Group commit of saves into one folder. Each APPEND flushes its own file in tmp/ (those fsyncs run
 * side by side) and takes its place in the line when it is called; the first to get the folder's
 * lock takes every save ready at the head of the line at that moment and commits them together:
 * their renames, one fsync of cur/, one uidlist line per message in one flushed write. Saves that
 * arrive meanwhile wait for the next round, so a client pipelining APPENDs (or a MULTIAPPEND, or
 * several clients) pays one fsync round per batch, not one per message: what DirectorySync already
 * does for deliveries. No save is acknowledged before the round that holds it is on disk.
 *
 * The line keeps the order of the calls, not the order the tmp/ writes end: a large message's
 * later neighbours wait for it. So the UIDs follow the order the appends were made, as a client
 * pipelining APPENDs expects (RFC 3501 §5.5: commands run at once only if the result is as if in
 * order; its APPENDUIDs ascend). A save whose tmp/ write failed leaves the line.
 */
export class SaveQueue<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private scheduled = false;

  constructor(
    /** Runs a round under the folder's lock. */
    private readonly exclusive: (round: () => Promise<void>) => Promise<void>,
    /** Commits a batch; per item its result, or the error that item alone failed with. */
    private readonly commit: (items: T[]) => Promise<(R | Failed)[]>,
  ) {}

  /** Takes a place in the line now; the item (a promise while its tmp/ write runs) is committed in that place. */
  add(item: T | Promise<T>): Promise<R> {
    let entry!: Waiting<T, R>;
    const result = new Promise<R>((resolve, reject) => {
      entry = { ready: false, resolve, reject };
    });
    this.waiting.push(entry);
    Promise.resolve(item).then(
      (value) => {
        entry.item = value;
        entry.ready = true;
        this.kick();
      },
      (err) => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        entry.reject(err);
        this.kick();
      },
    );
    return result;
  }

  /** Asks for a round when the head of the line is ready and none is asked for. */
  private kick(): void {
    if (this.scheduled || !this.waiting[0]?.ready) return;
    this.scheduled = true;
    this.exclusive(() => this.round()).catch((err) => {
      // The lock was never had (the round catches its own errors): fail the saves it would have taken.
      if (!this.scheduled) return;
      this.scheduled = false;
      for (const w of this.waiting.splice(0, this.readyAtHead())) w.reject(err);
      this.kick();
    });
  }

  /** How many saves at the head of the line are ready. */
  private readyAtHead(): number {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.ready) n++;
    return n;
  }

  private async round(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting.splice(0, this.readyAtHead());
    if (batch.length > 0) {
      try {
        const results = await this.commit(batch.map((w) => w.item as T));
        for (const [i, w] of batch.entries()) {
          const r = results[i];
          if (r instanceof Failed) w.reject(r.error);
          else w.resolve(r as R);
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.kick();
  }
}

/** A place in the SaveQueue's line: its item once ready, and the caller's promise. */
interface Waiting<T, R> {
  item?: T;
  ready: boolean;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** One item of a batch failed on its own (the others went on). */
export class Failed {
  constructor(readonly error: unknown) {}
}
