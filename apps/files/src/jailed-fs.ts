import { type BigIntStats, closeSync, constants, fstatSync, openSync, type Stats, statSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Jail } from '@portlab/service';
import { FileSystem } from 'ftp-srv';
import type { FtpConnection } from './ftp-srv-internals.js';
import { usedBytes } from './quota.js';
import { fileError, ReplyError } from './reply-error.js';
import { UPLOAD_PREFIX, Upload, type UploadPlan } from './upload.js';

/** Names that would hide in a listing or break the control connection's lines. */
export const CONTROL_CHARACTERS = /[\x00-\x1f\x7f]/;

export interface JailedOptions {
  /** Anonymous FTP: downloads only. */
  readOnly: boolean;
  /** Bytes the whole folder may hold (files.quotaBytes). */
  quotaBytes: number;
}

/** A file as LIST and MLSD show it. */
export type Entry = Stats & { name: string };

/**
 * The FileSystem ftp-srv calls for every file command (CWD, LIST, RETR, STOR, DELE, MKD, RNFR/RNTO…),
 * replacing its default one, which joins paths without checking links and replies with the server's
 * absolute paths. Each method resolves the client's path through the user's Jail, and any error it
 * throws names the user's virtual path only ("/docs/a.txt: no such file or folder").
 */
export class JailedFileSystem extends FileSystem {
  private workingDirectory = '/';

  constructor(
    connection: FtpConnection,
    private readonly jail: Jail,
    private readonly options: JailedOptions,
  ) {
    // ftp-srv's published type of close() is wrong (message: number); its FileSystem only keeps the reference.
    super(connection as unknown as ConstructorParameters<typeof FileSystem>[0], {
      root: jail.root,
      cwd: '/',
    });
  }

  override currentDirectory(): string {
    return this.workingDirectory;
  }

  /** The user's absolute path for a name given by the client. */
  where(name: string | null | undefined): string {
    return Jail.virtual(this.workingDirectory, name || '.');
  }

  /**
   * SIZE, MDTM, MLST, and the target of LIST. Like `chdir` and `read`, without leaving the event
   * loop: on a local disk a realpath and a stat take microseconds, and each trip to libuv's thread
   * pool costs more than the call itself (the Jail's `existingSync`: same checks, same errors).
   */
  override async get(name: string): Promise<Entry> {
    const at = this.where(name);
    return guard(at, async () => named(statSync(this.jail.existingSync(at)), path.posix.basename(at) || '/'));
  }

  override async list(name = '.'): Promise<Entry[]> {
    const at = this.where(name);
    const folder = await guard(at, () => this.jail.existing(at));
    const names = await guard(at, () => readdir(folder));
    const entries = await Promise.all(names.map((n) => this.visible(at, n)));
    return entries.filter((e): e is Entry => e !== null);
  }

  /** The entry `name` of the folder `at` as listed, or null for what a listing must not show (see below). */
  private async visible(at: string, name: string): Promise<Entry | null> {
    // Uploads in progress, and names that would break the listing's lines, are not shown.
    if (name.startsWith(UPLOAD_PREFIX) || CONTROL_CHARACTERS.test(name)) return null;
    try {
      return named(await stat(await this.jail.existing(path.posix.join(at, name))), name);
    } catch {
      // Nor a link leading out (its size and date would tell about a file outside), nor a dangling one.
      return null;
    }
  }

  override async chdir(name = '.'): Promise<string> {
    const at = this.where(name);
    const info = await guard(at, async () => statSync(this.jail.existingSync(at)));
    if (!info.isDirectory()) throw new ReplyError(550, `${at}: not a folder`);
    this.workingDirectory = at;
    return at;
  }

  /**
   * Opens a file to send (RETR): the caller reads it from REST's offset (send.ts) and closes the
   * descriptor. Opened and checked in the event loop, as `get` (the reads of the content go to the
   * thread pool); its fstat to the nanosecond, which tells hot-files.ts which version it is.
   */
  override async read(name: string): Promise<{ fd: number; clientPath: string; stats: BigIntStats }> {
    const at = this.where(name);
    // O_NONBLOCK: open(2) of a named pipe would wait for a writer, and hold the event loop; for a
    // regular file the flag changes nothing. Only regular files are sent (below).
    const fd = await guard(at, async () =>
      openSync(this.jail.existingSync(at), constants.O_RDONLY | constants.O_NONBLOCK),
    );
    let stats: BigIntStats;
    try {
      stats = fstatSync(fd, { bigint: true });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!stats.isFile()) {
      closeSync(fd);
      throw new ReplyError(
        550,
        stats.isDirectory() ? `${at}: is a folder (CWD into it, or LIST it)` : `${at}: not a regular file`,
      );
    }
    return { fd, clientPath: at, stats };
  }

  /**
   * Plans an upload (STOR, APPE, REST+STOR) and opens its temp file. The quota is checked against the
   * folder's size, less the file being replaced, and the user's other uploads in progress: the new
   * file may grow to what is left (upload.ts).
   */
  override async write(
    name: string,
    {
      append = false,
      start = 0,
      stillWanted = () => null,
    }: Partial<Pick<UploadPlan, 'stillWanted'>> & { append?: boolean; start?: number } = {},
  ): Promise<Upload> {
    const at = this.where(name);
    this.writable(at);
    return guard(at, async () => {
      const target = await this.jail.entry(at);
      const existing = await lstat(target).catch(() => null);
      if (existing?.isDirectory()) throw new ReplyError(550, `${at}: is a folder`);
      let keep: { from: string; bytes: number } | undefined;
      if ((append || start > 0) && existing) {
        const from = await this.jail.existing(at); // A link out is refused here, not copied.
        const size = (await stat(from)).size;
        // RFC 3659 §5.5: a restart marker past the end of the file is an error (554).
        if (start > size)
          throw new ReplyError(554, `${at}: REST ${start} is past the end of the file (${size} bytes)`);
        keep = { from, bytes: append ? size : start };
      }
      const folder = this.jail.root;
      const settledBytes = async () => {
        const replaced = await lstat(target).catch(() => null);
        const used = await usedBytes(folder, (f) => f.startsWith(UPLOAD_PREFIX));
        return used - (replaced?.isFile() ? replaced.size : 0);
      };
      return Upload.start({
        target,
        clientPath: at,
        folder,
        settledBytes,
        settledAtStart: await settledBytes(),
        quotaBytes: this.options.quotaBytes,
        stillWanted,
        ...(keep ? { keep } : {}),
      });
    });
  }

  /** DELE and RMD alike (ftp-srv sends both here): a link is removed itself, never what it points to. */
  override async delete(name: string): Promise<void> {
    const at = this.where(name);
    this.writable(at);
    await guard(at, async () => {
      const entry = await this.jail.entry(at);
      if ((await lstat(entry)).isDirectory()) await rmdir(entry);
      else await unlink(entry);
    });
  }

  /** MKD: replies 257 with the new folder's path (RFC 959 §5.4, appendix II). */
  override async mkdir(name: string): Promise<string> {
    const at = this.where(name);
    this.writable(at);
    await guard(at, async () => mkdir(await this.jail.entry(at), { mode: 0o755 }));
    return at;
  }

  /** RNFR/RNTO: both names inside the jail; a link is renamed as a link. */
  override async rename(from: string, to: string): Promise<void> {
    const source = this.where(from);
    const target = this.where(to);
    this.writable(target);
    const sourceEntry = await guard(source, async () => {
      const entry = await this.jail.entry(source);
      await lstat(entry);
      return entry;
    });
    await guard(target, async () => rename(sourceEntry, await this.jail.entry(target)));
  }

  /** SITE CHMOD: permission bits only. */
  override async chmod(name: string, mode: string | number): Promise<void> {
    const at = this.where(name);
    this.writable(at);
    await guard(at, async () => chmod(await this.jail.existing(at), Number(mode) & 0o777));
  }

  /** A path the user may create or change (STOR, APPE, MKD, RNTO, DELE, RMD). */
  private writable(at: string): void {
    if (this.options.readOnly)
      throw new ReplyError(550, `${at}: permission denied (anonymous users may only download)`);
    // The names of uploads in progress are the server's: hidden from listings, and left out of the
    // quota's count while their bytes are counted as written (upload.ts). A user's own file of that
    // name would be both, out of the quota for good.
    if (path.posix.basename(at).startsWith(UPLOAD_PREFIX))
      throw new ReplyError(
        553,
        `${at}: names beginning with ${UPLOAD_PREFIX} are kept for uploads in progress`,
      );
  }
}

/** Runs a file operation; whatever fails, the error names the user's path only. */
async function guard<T>(virtualPath: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw fileError(virtualPath, err);
  }
}

function named(info: Stats, name: string): Entry {
  return Object.assign(info, { name });
}
