import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface RotateOptions {
  /** Rotate once the file would grow past this many bytes. */
  rotateBytes: number;
  /** How many rotated files to keep: <name>.1.ndjson is the newest. */
  keep: number;
}

/**
 * One append-only NDJSON file. Lines are batched and written once per turn of the event loop, with
 * O_APPEND so that a reader in another process sees whole lines only. Rotation renames the file to
 * <name>.1.ndjson (and shifts older ones) like logrotate; a follower still holding the old file
 * finishes reading it before it moves to the new one.
 */
export class LogFile {
  private fd: number | null = null;
  private size = 0;
  private pending: string[] = [];
  private scheduled = false;

  constructor(
    readonly file: string,
    private readonly rotate: RotateOptions,
  ) {}

  append(line: string): void {
    this.pending.push(`${line}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is pending now; also called on exit so nothing said is lost. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''));
    this.pending = [];
    if (this.fd === null) this.open();
    if (this.size > 0 && this.size + chunk.length > this.rotate.rotateBytes) this.rotateNow();
    writeSync(this.fd!, chunk);
    this.size += chunk.length;
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = openSync(this.file, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  private rotateNow(): void {
    closeSync(this.fd!);
    const base = this.file.replace(/\.ndjson$/, '');
    rmSync(`${base}.${this.rotate.keep}.ndjson`, { force: true });
    for (let i = this.rotate.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${base}.${i}.ndjson`, `${base}.${i + 1}.ndjson`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(this.file, `${base}.1.ndjson`);
    this.open();
  }
}
