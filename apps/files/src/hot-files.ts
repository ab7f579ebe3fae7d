import type { BigIntStats } from 'node:fs';
import { SETTLED_NS, sameVersion, settled } from '@portlab/config';
import { readAt } from './send.js';

/**
 * The contents of files that several downloads want at once, held in memory for a while: a class
 * downloading the sheet of the day (30 RETRs of one file within a second) reads it from the disk
 * once, and every data connection is written from the same bytes.
 *
 * Why: each download read its file through the thread pool, 1 MiB at a time: a copy from the page
 * cache into our buffers, and two thread switches, for every MiB of every download. With 50 parallel
 * RETRs of a 10 MB file that was a quarter of the server's processor time (`npm run bench -- ftp
 * --rows=parallel`). vsftpd has no such copy: its sendfile(2) hands page cache pages to the socket,
 * a call Node does not have. A file held here is written to the socket in one call, and libuv
 * writes it out as the client reads, with no JavaScript per piece.
 *
 * The bytes held are checked against the disk on every RETR: the open file's fstat must show the
 * same device and inode (an upload is renamed into place, a new inode), size, and change and
 * modification times to the nanosecond. File times come from a clock that ticks coarsely, so a file
 * changed within the last second (SETTLED_NS) could change again without new times: one that young
 * is read and sent, never kept (Git's "racily clean" case: sameVersion and settled are
 * @portlab/config's, checked-file.ts, as the web app's caches use them).
 *
 * Bounded: files up to `maxFileBytes` (larger ones are read as they are sent, send.ts), `maxBytes`
 * in all, the least recently used dropped first; all let go after a quiet while, so that an idle lab
 * holds nothing.
 */
export class HotFiles {
  /** By device and inode; Map order is use order (most recent last). */
  private readonly entries = new Map<string, { bytes: Buffer; stats: BigIntStats }>();
  /** Reads under way, so that downloads starting together read the file once. */
  private readonly loading = new Map<string, Promise<Buffer | null>>();
  private bytes = 0;
  private readonly quiet: NodeJS.Timeout;

  constructor(
    readonly maxFileBytes = 16 * 1024 * 1024,
    private readonly maxBytes = 64 * 1024 * 1024,
    idleMs = 30_000,
    private readonly settledNs = SETTLED_NS,
  ) {
    this.quiet = setTimeout(() => this.clear(), idleMs);
    this.quiet.unref();
  }

  /**
   * The whole content of the open file `fd`, whose fstat is `stats`: from memory if held for this
   * very version, else read (once for all who ask meanwhile). null if the file is too large to hold,
   * or changed while it was read: the caller reads it as it sends it.
   */
  async get(fd: number, stats: BigIntStats): Promise<Buffer | null> {
    if (!stats.isFile() || stats.size > BigInt(this.maxFileBytes)) return null;
    this.quiet.refresh();
    const key = `${stats.dev}:${stats.ino}`;
    const held = this.entries.get(key);
    if (held && sameVersion(held.stats, stats)) {
      this.entries.delete(key); // Used now: to the end of the order.
      this.entries.set(key, held);
      return held.bytes;
    }
    const version = `${key}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
    let loading = this.loading.get(version);
    if (!loading) {
      loading = this.load(fd, key, stats).finally(() => this.loading.delete(version));
      this.loading.set(version, loading);
    }
    return loading;
  }

  /** Lets every held file go. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private async load(fd: number, key: string, stats: BigIntStats): Promise<Buffer | null> {
    const bytes = Buffer.allocUnsafeSlow(Number(stats.size));
    let got = 0;
    while (got < bytes.length) {
      const n = await readAt(fd, bytes.subarray(got), got);
      if (n === 0) break;
      got += n;
    }
    // Cut meanwhile: what is there now is for send.ts to read.
    if (got < bytes.length) return null;
    if (settled(stats, this.settledNs)) this.keep(key, bytes, stats);
    return bytes;
  }

  private keep(key: string, bytes: Buffer, stats: BigIntStats): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes.length;
    }
    this.entries.set(key, { bytes, stats });
    this.bytes += bytes.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes.length;
    }
  }
}
