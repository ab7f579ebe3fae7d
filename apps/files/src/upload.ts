import { randomBytes } from 'node:crypto';
import { copyFile, type FileHandle, open, rename, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { formatBytes } from './quota.js';
import { ReplyError } from './reply-error.js';

/** What is read and dropped of an upload already over the quota before the connection is cut. */
const MAX_DROPPED_BYTES = 64 * 1024 * 1024;

/** Temp files of uploads in progress: hidden from listings, counted by the quota. */
export const UPLOAD_PREFIX = '.portlab-upload-';

export interface UploadPlan {
  /** The real path the file will have once stored (its folder already checked inside the jail). */
  target: string;
  /** The user's path, for messages. */
  clientPath: string;
  /** APPE and REST+STOR start from an existing file: its real path, and how many of its bytes to keep. */
  keep?: { from: string; bytes: number };
  /** The largest size the stored file may reach without passing the user's quota. */
  maxBytes: number;
  quotaBytes: number;
  /**
   * Asked once the data connection ended, before the file is stored: in stream mode (RFC 959 §3.4.1)
   * the end of the data connection is the end of the file, so a client that crashed mid-upload looks
   * like one that finished. Its control connection tells them apart (it is gone too), and so does an
   * ABOR waiting behind the transfer. Returns why not to store, or null.
   */
  stillWanted: () => string | null;
}

/**
 * The bytes of one STOR or APPE (RFC 959 §4.1.3). They go to a hidden temp file in the target's own
 * folder, renamed over the target only after the last byte arrived: a reader never sees half a file,
 * and an upload cut in the middle, or stopped by the quota (552), leaves nothing behind. Same folder,
 * so the rename is atomic (rename(2) within one file system).
 *
 * ProFTPD's HiddenStores works the same way.
 *
 * APPE and a resumed STOR (REST n) start the temp file as a copy of the existing file (all of it, or
 * its first n bytes), so they too replace the file in one step.
 */
export class Upload extends Writable {
  /** Bytes the file holds so far (kept bytes included). */
  size: number;
  private stored = false;
  /** Set once the upload passed the quota: what follows is dropped, and this is the reply. */
  private refused: ReplyError | null = null;
  private dropped = 0;

  private constructor(
    private readonly plan: UploadPlan,
    private readonly temp: string,
    private readonly handle: FileHandle,
  ) {
    // Large batches: socket chunks queue while a write is on disk, and go out in one writev.
    super({ highWaterMark: 1024 * 1024 });
    this.size = plan.keep?.bytes ?? 0;
  }

  static async start(plan: UploadPlan): Promise<Upload> {
    const temp = path.join(path.dirname(plan.target), UPLOAD_PREFIX + randomBytes(8).toString('hex'));
    if (plan.keep) {
      await copyFile(plan.keep.from, temp);
      await truncate(temp, plan.keep.bytes);
    }
    const handle = await open(temp, plan.keep ? 'r+' : 'wx', 0o644);
    return new Upload(plan, temp, handle);
  }

  get clientPath(): string {
    return this.plan.clientPath;
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    const bytes = buffers.reduce((sum, b) => sum + b.length, 0);
    if (this.refused || this.size + bytes > this.plan.maxBytes) {
      // Past the quota, the rest of the upload is read and dropped, and the 552 comes at its end:
      // cutting the data connection while the client still sends resets it (RST), and the client's
      // FTP library would report "connection reset" instead of reading our 552. Up to a bound.
      const quota = formatBytes(this.plan.quotaBytes);
      this.refused ??= new ReplyError(
        552,
        `${this.plan.clientPath}: quota of ${quota} exceeded; nothing stored`,
      );
      this.dropped += bytes;
      done(this.dropped > MAX_DROPPED_BYTES ? this.refused : null);
      return;
    }
    this.handle.writev(buffers, this.size).then(() => {
      this.size += bytes;
      done();
    }, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.refused) {
      done(this.refused);
      return;
    }
    const unwanted = this.plan.stillWanted();
    if (unwanted) {
      done(new ReplyError(426, `${this.plan.clientPath}: ${unwanted}; nothing stored`));
      return;
    }
    // No fsync, as vsftpd: a power cut may lose the last upload, but the rename means a reader
    // never sees a half-written one.
    this.handle
      .close()
      .then(() => rename(this.temp, this.plan.target))
      .then(() => {
        this.stored = true;
        done();
      }, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.stored) {
      done(error);
      return;
    }
    this.handle
      .close()
      .catch(() => undefined) // Already closed by _final.
      .then(() => rm(this.temp, { force: true }))
      .then(
        () => done(error),
        () => done(error),
      );
  }
}
