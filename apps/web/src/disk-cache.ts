import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';

/**
 * What the web app read from the disk, kept between requests and checked against the disk on each:
 * a value holds while the file (or folder) it came from has the same identity and version, as a
 * stat(2) shows them. The check is one stat, where reading again is an open, a read, a parse.
 *
 * The version is the inode (a file replaced by rename, as users.json and the run files are, is a new
 * inode), the size, and the change and modification times to the nanosecond. A file system stamps
 * times from a clock that ticks coarsely (a jiffy, up to 10 ms on Linux), so two writes within one
 * tick can leave the same times: a value read while its file is that young is used once and not
 * kept, and it is kept only once its times are older than SETTLED_NS. Git calls this the "racily
 * clean" case (Documentation/technical/racy-git.txt) and solves it the same way.
 */

/** How old a file's times must be before a value read from it is kept (far above a clock tick). */
export const SETTLED_NS = 1_000_000_000n;

/**
 * True if `a` and `b` show the same identity and version of a file or folder: device and inode,
 * size, and both times to the nanosecond (compared as they are: the fast path of /~user/ compares
 * on every request).
 */
export function sameVersion(a: BigIntStats, b: BigIntStats): boolean {
  return (
    a.ino === b.ino &&
    a.dev === b.dev &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/** True if a later change to the file must give it other times than these (see SETTLED_NS). */
export function settled(stats: BigIntStats, settledNs = SETTLED_NS): boolean {
  // Every change stamps ctime with the clock (mtime can be set to any date by utimes(2)).
  return BigInt(Date.now()) * 1_000_000n - stats.ctimeNs >= settledNs;
}

/**
 * One value computed from one file or folder, read again on a change: users.json, or the run folder
 * (each app replaces its run file by a rename, which changes the folder's times).
 *
 * `unsettledMs`: how long a value read from a file still too young to be kept (SETTLED_NS) may be
 * used again while the stat shows the same times; 0 (the default) reads it again on every use. A
 * change that gives new times is seen at once either way; only a second change within the same clock
 * tick as the one read (same times) waits that long to be seen. The run folder changes about once a
 * second under a stream of connections (each app writes its run file at most once a second): read
 * on every use, the home page was read and rendered again for every request (200 µs, not 30).
 */
export class Checked<T> {
  private stats: BigIntStats | null = null;
  private value: T | undefined;
  /** A value read from young times: those times, and when it was read (ms). */
  private young: { stats: BigIntStats; value: T; at: number } | null = null;

  constructor(
    private readonly file: string,
    private readonly read: () => T,
    private readonly settledNs = SETTLED_NS,
    private readonly unsettledMs = 0,
  ) {}

  /** The value, read again only if the file changed (or is missing: then `read` says what to do). */
  get(): T {
    // Stat before reading: a change after the stat gives a new stamp, so it is seen next time.
    const stats = statSync(this.file, { bigint: true, throwIfNoEntry: false });
    if (stats && this.stats && sameVersion(this.stats, stats)) return this.value as T;
    const young = this.young;
    if (stats && young && sameVersion(young.stats, stats) && Date.now() - young.at < this.unsettledMs) {
      return young.value;
    }
    const value = this.read();
    this.young = null;
    if (stats && settled(stats, this.settledNs)) {
      this.stats = stats;
      this.value = value;
    } else {
      this.stats = null;
      this.value = undefined;
      if (stats && this.unsettledMs > 0) this.young = { stats, value, at: Date.now() };
    }
    return value;
  }
}

/** A small file as served: its bytes and the stat they go with (size, times for ETag/Last-Modified). */
export interface FileBody {
  bytes: Buffer;
  stats: BigIntStats;
}

/**
 * The contents of small files, by real path, checked by a stat on each use. Bounded: files up to
 * `maxFileBytes`, `maxBytes` in all, the oldest entry dropped first.
 */
export class SmallFiles {
  private readonly entries = new Map<string, FileBody>();
  private bytes = 0;

  constructor(
    readonly maxFileBytes = 64 * 1024,
    private readonly maxBytes = 4 * 1024 * 1024,
    private readonly settledNs = SETTLED_NS,
  ) {}

  /**
   * The file's bytes, from memory if `stats` (a stat of `file` just made) says it has not changed,
   * else from the disk; null if it is too large to hold (stream it instead).
   */
  get(file: string, stats: BigIntStats): FileBody | null {
    if (stats.size > BigInt(this.maxFileBytes)) return null;
    const held = this.held(file, stats);
    if (held) return held;
    const old = this.entries.get(file);
    if (old) this.drop(file, old);
    const body = readWhole(file, this.maxFileBytes);
    // Kept only if read whole as the stat saw it, and old enough for its times to tell (see above).
    if (body && sameVersion(body.stats, stats) && settled(body.stats, this.settledNs)) {
      this.entries.set(file, body);
      this.bytes += body.bytes.length;
      for (const [oldest, oldestBody] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.drop(oldest, oldestBody);
      }
    }
    return body;
  }

  /**
   * The file's bytes if held and `stats` (a stat of `file`, or of a path leading to it, just made)
   * shows the very version held; null otherwise. Never reads the disk.
   */
  held(file: string, stats: BigIntStats): FileBody | null {
    const kept = this.entries.get(file);
    return kept && sameVersion(kept.stats, stats) ? kept : null;
  }

  private drop(file: string, body: FileBody): void {
    this.entries.delete(file);
    this.bytes -= body.bytes.length;
  }
}

/**
 * The whole file with the stat of what was read (fstat on the open file, so that the size and times
 * sent go with these bytes); null if it has grown past `max` meanwhile.
 */
function readWhole(file: string, max: number): FileBody | null {
  // O_NONBLOCK: if a named pipe took the file's place since the stat, open must not wait for a
  // writer (it would hold the event loop); for a regular file the flag changes nothing.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd, { bigint: true });
    if (!stats.isFile() || stats.size > BigInt(max)) return null;
    const bytes = Buffer.allocUnsafe(Number(stats.size));
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break;
      got += n;
    }
    // Shorter than its stat said (cut meanwhile): what was there, with a stat that will not match.
    if (got < bytes.length) return { bytes: bytes.subarray(0, got), stats: fstatSync(fd, { bigint: true }) };
    return { bytes, stats };
  } finally {
    closeSync(fd);
  }
}
