import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * A small JSON document on disk (tokens, filters, profiles): read once, rewritten whole on each change,
 * through a temporary file fsync'd and renamed, so a crash leaves the old or the new file, never half.
 */
export class JsonFile<T> {
  private value: T;

  constructor(
    readonly file: string,
    empty: () => T,
  ) {
    try {
      this.value = JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.value = empty();
    }
  }

  get data(): T {
    return this.value;
  }

  /** Changes the document and writes it before returning. */
  update(change: (data: T) => void): void {
    change(this.value);
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.value, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
