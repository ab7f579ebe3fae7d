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
  #fh: FileHandle | undefined;
  #queue: Pending[] = [];
  #writing = false;
  #closed = false;
  // After a failed write the file may end in half a line: refuse further appends rather than write
  // after it (a restart cuts the torn line and carries on).
  #failed: unknown;

  constructor(readonly file: string) {}

  /** Appends one record as one line; resolves once it is written and fdatasync'd. */
  append(record: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (this.#failed) return Promise.reject(this.#failed);
    const data = `${JSON.stringify(record)}\n`;
    return new Promise((resolve, reject) => {
      this.#queue.push({ data, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  /** Empties the file, after the appends already queued and before those that follow. */
  truncate(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.file} is closed`));
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ data: null, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        // Consecutive lines go in one write and one fdatasync; a truncate goes alone.
        const first = this.#queue[0] as Pending;
        let n = 1;
        if (first.data !== null) while (n < this.#queue.length && this.#queue[n]?.data !== null) n++;
        const batch = this.#queue.splice(0, n);
        try {
          this.#fh ??= await open(this.file, 'a', 0o600);
          if (first.data === null) await this.#fh.truncate(0);
          else await this.#fh.write(batch.map((p) => p.data).join(''));
          await this.#fh.datasync();
          for (const p of batch) p.resolve();
        } catch (err) {
          this.#failed = err;
          for (const p of [...batch, ...this.#queue]) p.reject(err);
          this.#queue = [];
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Waits for the writes in flight, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#writing || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
