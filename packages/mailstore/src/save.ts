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
 * side by side), then joins the queue; the first to get the folder's lock takes every save waiting
 * at that moment and commits them together: their renames, one fsync of cur/, one uidlist line per
 * message in one flushed write. Saves that arrive meanwhile wait for the next round, so a client
 * pipelining APPENDs (or a MULTIAPPEND, or several clients) pays one fsync round per batch, not one
 * per message: what DirectorySync already does for deliveries. No save is acknowledged before the
 * round that holds it is on disk.
 */
export class SaveQueue<T, R> {
  private waiting: { item: T; resolve: (result: R) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    /** Runs a round under the folder's lock. */
    private readonly exclusive: (round: () => Promise<void>) => Promise<void>,
    /** Commits a batch; per item its result, or the error that item alone failed with. */
    private readonly commit: (items: T[]) => Promise<(R | Failed)[]>,
  ) {}

  add(item: T): Promise<R> {
    const result = new Promise<R>((resolve, reject) => this.waiting.push({ item, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      this.exclusive(() => this.round()).catch((err) => {
        // The lock was never had (the round catches its own errors): fail the saves still waiting.
        if (!this.scheduled) return;
        this.scheduled = false;
        for (const w of this.waiting.splice(0)) w.reject(err);
      });
    }
    return result;
  }

  private async round(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    try {
      const results = await this.commit(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) {
        const r = results[i];
        if (r instanceof Failed) w.reject(r.error);
        else w.resolve(r as R);
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

/** One item of a batch failed on its own (the others went on). */
export class Failed {
  constructor(readonly error: unknown) {}
}
