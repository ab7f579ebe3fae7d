import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { copyFile, type FileHandle, open, rename, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '@portlab/config';
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
  /** The user's folder: its uploads in progress share its quota. */
  folder: string;
  /**
   * The bytes the user's folder holds now, uploads in progress left out (they count as they are
   * written), less the file this upload replaces.
   */
  settledBytes: () => Promise<number>;
  /** settledBytes() when the upload began. */
  settledAtStart: number;
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
 *
 * receive.ts calls write() with each buffer read from the data connection, then store() at its end;
 * discard() in every case removes the temp file of an upload not stored.
 */
export class Upload {
  /**
   * The uploads in progress, per user folder. Side by side, they share the quota: each of 10
   * sessions of one student, begun together, would otherwise see the folder empty and store up to
   * the whole quota (10 × 100 MB on the teacher's disk).
   */
  private static readonly inProgress = new Map<string, Set<Upload>>();

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
    this.size = plan.keep?.bytes ?? 0;
  }

  static async start(plan: UploadPlan): Promise<Upload> {
    const temp = path.join(path.dirname(plan.target), UPLOAD_PREFIX + randomBytes(8).toString('hex'));
    if (plan.keep) {
      await copyFile(plan.keep.from, temp);
      await truncate(temp, plan.keep.bytes);
    }
    const handle = await open(temp, plan.keep ? 'r+' : 'wx', 0o644);
    const upload = new Upload(plan, temp, handle);
    const uploads = Upload.inProgress.get(plan.folder) ?? new Set();
    Upload.inProgress.set(plan.folder, uploads.add(upload));
    return upload;
  }

  /** Bytes of the folder's other uploads in progress, so far. */
  private othersBytes(): number {
    let total = 0;
    for (const other of Upload.inProgress.get(this.plan.folder) ?? [])
      if (other !== this) total += other.size;
    return total;
  }

  private done(): void {
    const uploads = Upload.inProgress.get(this.plan.folder);
    uploads?.delete(this);
    if (uploads?.size === 0) Upload.inProgress.delete(this.plan.folder);
  }

  private quotaExceeded(): ReplyError {
    const quota = formatBytes(this.plan.quotaBytes);
    return new ReplyError(552, `${this.plan.clientPath}: quota of ${quota} exceeded; nothing stored`);
  }

  get clientPath(): string {
    return this.plan.clientPath;
  }

  /**
   * Adds `bytes` at the end of the file, before it returns. Synchronous on purpose: a write(2) into
   * the page cache is a memory copy of a fraction of a millisecond, cheaper done here, in the cache
   * still warm from the read, than handed to libuv's thread pool (README, "Performance").
   */
  write(bytes: Uint8Array): void {
    const { settledAtStart, quotaBytes } = this.plan;
    if (this.refused || settledAtStart + this.othersBytes() + this.size + bytes.length > quotaBytes) {
      // Past the quota, the rest of the upload is read and dropped, and the 552 comes at its end:
      // cutting the data connection while the client still sends resets it (RST), and the client's
      // FTP library would report "connection reset" instead of reading our 552. Up to a bound.
      this.refused ??= this.quotaExceeded();
      this.dropped += bytes.length;
      if (this.dropped > MAX_DROPPED_BYTES) throw this.refused;
      return;
    }
    for (let at = 0; at < bytes.length; ) {
      // A write(2) may take fewer bytes than given (a full disk): the rest goes after them.
      const written = writeSync(this.handle.fd, bytes, at, bytes.length - at, this.size);
      at += written;
      this.size += written;
    }
  }

  /** The last byte arrived: the temp file takes the target's name, unless refused or no longer wanted. */
  async store(): Promise<void> {
    if (this.refused) throw this.refused;
    await pendingEventsRead();
    const unwanted = this.plan.stillWanted();
    if (unwanted) throw new ReplyError(426, `${this.plan.clientPath}: ${unwanted}; nothing stored`);
    // Uploads of this folder stored since this one began are in no count above: the folder is
    // measured again, with the uploads still in progress.
    const settled = await this.plan.settledBytes();
    if (settled + this.othersBytes() + this.size > this.plan.quotaBytes) throw this.quotaExceeded();
    // No fsync, as vsftpd: a power cut may lose the last upload, but the rename means a reader
    // never sees a half-written one.
    await this.handle.close();
    await rename(this.temp, this.plan.target);
    this.stored = true;
    this.done();
  }

  /** Removes the temp file of an upload not stored; nothing once stored. */
  async discard(): Promise<void> {
    if (this.stored) return;
    this.done();
    await this.handle.close().catch(() => undefined); // Already closed if the rename failed.
    await rm(this.temp, { force: true });
  }
}

/**
 * Resolves once the event loop has handled the socket events already waiting. A client that dies
 * resets (or closes) its control connection and its data connection together; the data connection's
 * end may be handled first, from the same batch of events, and stillWanted() would then find the
 * control connection still open and store half a file. Two turns: the rest of the current batch,
 * then a fresh poll of every socket.
 */
function pendingEventsRead(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
