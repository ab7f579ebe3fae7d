import { type BigIntStats, statSync } from 'node:fs';

/**
 * A value read from a file (or folder), kept between uses and checked against the disk on each: it
 * holds while the file has the same identity and version, as a stat(2) shows them. The check is one
 * stat, where reading again is an open, a read, a parse. users.json (the mail app's RCPT TO, the web
 * app's ~user pages), the web app's run folder and the class DNS's zone.json are read this way:
 * `portlab user add`, `portlab class create` or `portlab dns add` is seen at the next question, with
 * no watcher to lose an event.
 *
 * The version is the inode (a file replaced by rename, as users.json, zone.json and the run files
 * are, is a new inode), the size, and the change and modification times to the nanosecond. A file
 * system stamps times from a clock that ticks coarsely (a jiffy, up to 10 ms on Linux), so two writes
 * within one tick can leave the same times: a value read while its file is that young is used once
 * and not kept, and it is kept only once its times are older than SETTLED_NS. Git calls this the
 * "racily clean" case (Documentation/technical/racy-git.txt) and solves it the same way.
 */

/** How old a file's times must be before a value read from it is kept (far above a clock tick). */
export const SETTLED_NS = 1_000_000_000n;

/**
 * True if `a` and `b` show the same identity and version of a file or folder: device and inode,
 * size, and both times to the nanosecond (compared as they are: the web app's fast path of /~user/
 * compares on every request).
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
 * One value computed from one file or folder by `read`, read again on a change. A missing file (or
 * one a stat fails on: no access, a file where a folder should be) is read each time: `read` says
 * what that means (an error, or an empty value); so is a file `read` threw on (a value is kept only
 * once read).
 *
 * `unsettledMs`: how long a value read from a file still too young to be kept (SETTLED_NS) may be
 * used again while the stat shows the same times; 0 (the default) reads it again on every use. A
 * change that gives new times is seen at once either way; only a second change within the same clock
 * tick as the one read (same times) waits that long to be seen. The web app's run folder changes
 * about once a second under a stream of connections (each app writes its run file at most once a
 * second): read on every use, the home page was read and rendered again for every request (200 µs,
 * not 30).
 */
export class CheckedFile<T> {
  private stats: BigIntStats | null = null;
  private value: T | undefined;
  /** A value read from young times: those times, and when it was read (ms). */
  private young: { stats: BigIntStats; value: T; at: number } | null = null;

  constructor(
    readonly file: string,
    private readonly read: () => T,
    private readonly settledNs = SETTLED_NS,
    private readonly unsettledMs = 0,
  ) {}

  /** The value, read again only if the file changed (or is missing: then `read` says what to do). */
  get(): T {
    // Stat before reading: a change after the stat gives a new stamp, so it is seen next time.
    const stats = statOrNothing(this.file);
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

/** The file's stat, or nothing if there is no file or the stat fails (then `read` meets the same error). */
function statOrNothing(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
