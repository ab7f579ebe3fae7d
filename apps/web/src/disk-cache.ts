import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SETTLED_NS, sameVersion, settled } from '@portlab/config';

/**
 * Small files the web app serves, kept between requests and checked against the disk on each: a
 * file's bytes hold while a stat(2) shows the same identity and version (`sameVersion` of
 * @portlab/config: device, inode, size, both times to the nanosecond). The check is one stat, where
 * reading again is an open and a read. As for every value read from a file (checked-file.ts of
 * @portlab/config), bytes read while the file's times are younger than SETTLED_NS are sent once and
 * not kept: two writes within one clock tick of the file system can leave the same times.
 */

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
