import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * Why a path was refused. Each server turns it into its own protocol's reply (FTP 550, HTTP 400/403/404):
 * - 'invalid': a name that can mean nothing here (a NUL byte; the top folder as an entry to change);
 * - 'outside': ".." climbs above the top, when the caller asked for that to be refused;
 * - 'link': the name stays inside, but a symbolic link on the way leads out;
 * - 'not-found': nothing to reach on disk (missing, a file where a folder should be, a loop of links…).
 */
export type JailRefusal = 'invalid' | 'outside' | 'link' | 'not-found';

/**
 * A refusal that names the user's own path only (`path`, as the user sees it from "/"), never where
 * the folder lives on the server: the message is safe to send to the client as it is. For 'not-found',
 * `cause` holds the system error, for a server that tells "not a folder" from "no such file".
 */
export class JailError extends Error {
  constructor(
    readonly reason: JailRefusal,
    readonly path: string,
    readonly why: string,
    options?: { cause: unknown },
  ) {
    super(`${path}: ${why}`, options);
    this.name = 'JailError';
  }
}

/**
 * What ".." above the top means. 'stop': nothing, as `cd ..` in / (a chroot: FTP clients and URLs
 * send such paths innocently). 'refuse': a JailError 'outside', for an API where only a hand-made
 * request climbs and the attempt deserves a name.
 */
export type AboveTop = 'stop' | 'refuse';

/**
 * A user's folder seen as "/", as vsftpd's chroot_local_user does, without needing root: every path a
 * client names is resolved inside it, then checked again on disk once symbolic links are followed.
 *
 * Two steps, because each stops a different attack:
 * - `virtual()` works on the names alone: ".." stops at "/", backslashes count as slashes (Windows
 *   clients send them), so "../../etc/passwd", "/etc/passwd" and "..\..\etc" all stay inside.
 * - `existing()` / `entry()` ask the disk (realpath): a link inside the folder that points out of it
 *   (`ln -s /etc evil`) is refused, which name-only checks cannot see.
 */
export class Jail {
  private constructor(readonly root: string) {}

  /** `dir` must exist; its own real path is the boundary (the data dir itself may sit behind a link). */
  static async open(dir: string): Promise<Jail> {
    try {
      return new Jail(await realpath(dir));
    } catch (err) {
      throw new JailError('not-found', '/', 'the folder does not exist', { cause: err });
    }
  }

  /**
   * `open`, without leaving the event loop: for a server's hot path (the web app's /~user/ pages),
   * where a realpath on a local disk takes microseconds and a trip to libuv's thread pool costs
   * more than the call itself (nginx too calls open/stat in its event loop). Same checks, same errors.
   */
  static openSync(dir: string): Jail {
    try {
      return new Jail(realpathSync.native(dir));
    } catch (err) {
      throw new JailError('not-found', '/', 'the folder does not exist', { cause: err });
    }
  }

  /** The absolute path inside the jail that `name` means when the working directory is `cwd`. */
  static virtual(cwd: string, name: string, aboveTop: AboveTop = 'stop'): string {
    if (name.includes('\0')) {
      // Shown as \0, never sent: a NUL byte ends a C string, and would cut the path short on disk.
      throw new JailError('invalid', name.replaceAll('\0', '\\0'), 'a path cannot hold a NUL byte');
    }
    const slashed = name.replaceAll('\\', '/');
    const names: string[] = [];
    for (const part of (slashed.startsWith('/') ? slashed : `${cwd}/${slashed}`).split('/')) {
      if (part === '..') {
        if (names.length === 0 && aboveTop === 'refuse') {
          throw new JailError('outside', name, 'is outside your folder');
        }
        names.pop();
      } else if (part !== '' && part !== '.') {
        names.push(part);
      }
    }
    return `/${names.join('/')}`;
  }

  /**
   * The real path of an existing file or folder, links followed; refused if that lands outside.
   * `virtualPath` is read from the top, ".." stopping there, so no caller can step out by mistake.
   */
  async existing(virtualPath: string): Promise<string> {
    const at = Jail.virtual('/', virtualPath);
    let real: string;
    try {
      real = await realpath(path.join(this.root, at));
    } catch (err) {
      throw new JailError('not-found', at, 'no such file or folder', { cause: err });
    }
    return this.inside(at, real);
  }

  /** `existing`, synchronous (see `openSync`): the same realpath(3), the same check. */
  existingSync(virtualPath: string): string {
    const at = Jail.virtual('/', virtualPath);
    let real: string;
    try {
      real = realpathSync.native(path.join(this.root, at));
    } catch (err) {
      throw new JailError('not-found', at, 'no such file or folder', { cause: err });
    }
    return this.inside(at, real);
  }

  /** `real` if it is the top or under it; a link that led elsewhere is refused. */
  private inside(at: string, real: string): string {
    if (real !== this.root && !real.startsWith(this.root + path.sep)) {
      throw new JailError('link', at, 'leads outside your folder');
    }
    return real;
  }

  /**
   * Where the entry `virtualPath` itself lives: the real path of its folder (checked), plus its name,
   * unresolved. For creating, deleting and renaming, which act on a link, never on what it points to.
   */
  async entry(virtualPath: string): Promise<string> {
    const at = Jail.virtual('/', virtualPath);
    if (at === '/') throw new JailError('invalid', '/', 'your own top folder cannot be changed');
    const folder = await this.existing(path.posix.dirname(at));
    return path.join(folder, path.posix.basename(at));
  }
}
