/**
 * An append-only NDJSON file with group commit: appends made while a write is in flight are
 * written together and share one fdatasync, so many clients sending at once cost one disk flush,
 * and no append resolves before its line is on disk (issue #16: "fsync'd before the client gets its
 * event_id"; nothing lost after kill -9).
 */
import { type FileHandle, open, readFile, truncate } from 'node:fs/promises';

export class TornFileError extends Error {
  override name = 'TornFileError';
}

/**
 * Reads every complete line of `file` (parsed as JSON). A last line without its newline, or that
 * does not parse, is a write cut short by a crash: the file is truncated back to the last complete
 * line (and `cut` says how many bytes went). A bad line before the last is real damage: it throws.
 */
export async function readNdjson(file: string): Promise<{ records: unknown[]; cut: number }> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], cut: 0 };
    throw err;
  }
  const records: unknown[] = [];
  let start = 0;
  let good = 0; // byte offset just after the last complete, parsed line
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl;
    const text = data.subarray(start, end).toString('utf8');
    let record: unknown;
    let ok = nl >= 0;
    if (ok && text.trim() !== '') {
      try {
        record = JSON.parse(text);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      const last = nl < 0 || nl === data.length - 1;
      if (!last) throw new TornFileError(`${file}: line at byte ${start} is not JSON (the file is damaged)`);
      break;
    }
    if (text.trim() !== '') records.push(record);
    start = end + 1;
    good = start;
  }
  const cut = data.length - good;
  if (cut > 0) await truncate(file, good);
  return { records, cut };
}

interface Pending {
  /** A line, or null: empty the file (in order with the appends around it). */
  data: string | null;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class NdjsonAppender {
  #fh: Promise<FileHandle> | undefined;
  #queue: Pending[] = [];
  #drained: Promise<void> | undefined;
  #closed = false;
  // After a failed write the file may end in half a line: refuse further appends rather than write
  // after it (a restart cuts the torn line and carries on).
  #failed: unknown;

  constructor(readonly file: string) {}

  /**
   * Opens the file (once). Callers that must not half-commit (the room store indexes an event
   * before writing it) call this first, so a file that cannot be opened fails before anything.
   */
  ready(): Promise<FileHandle> {
    this.#fh ??= open(this.file, 'a', 0o600);
    return this.#fh;
  }

  /** Appends one record as one line; resolves once it is written and fdatasync'd. */
  append(record: unknown): Promise<void> {
    return this.#push(`${JSON.stringify(record)}\n`);
  }

  /** Empties the file, after the appends already queued and before those that follow. */
  truncate(): Promise<void> {
    return this.#push(null);
  }

  #push(data: string | null): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ data, resolve, reject });
      this.#drained ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // Consecutive lines go in one write and one fdatasync; a truncate goes alone.
        const first = this.#queue[0] as Pending;
        let n = 1;
        if (first.data !== null) while (n < this.#queue.length && this.#queue[n]?.data !== null) n++;
        const batch = this.#queue.splice(0, n);
        try {
          const fh = await this.ready();
          if (first.data === null) await fh.truncate(0);
          else {
            const bytes = Buffer.from(batch.map((p) => p.data).join(''), 'utf8');
            // write(2) may write less than asked (a signal, a full disk): go on until all is written.
            for (let off = 0; off < bytes.length; ) off += (await fh.write(bytes, off)).bytesWritten;
          }
          await fh.datasync();
          for (const p of batch) p.resolve();
        } catch (err) {
          this.#failed = err;
          for (const p of [...batch, ...this.#queue]) p.reject(err);
          this.#queue = [];
        }
      }
    } finally {
      // Cleared in the very turn the loop found the queue empty (no await in between): a push
      // after this starts a new drain, a push before it was seen by the loop.
      this.#drained = undefined;
    }
  }

  /** Waits for the writes in flight, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#drained;
    const fh = this.#fh;
    this.#fh = undefined;
    await (await fh?.catch(() => undefined))?.close();
  }
}
