import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ReplyError } from './reply-error.js';

/**
 * A user's folder seen as "/", as vsftpd's chroot_local_user does, without needing root: every path a
 * client names is resolved inside it, and checked again on disk once symbolic links are followed.
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
    return new Jail(await realpath(dir));
  }

  /** The absolute path inside the jail that `name` means when the working directory is `cwd`. */
  static virtual(cwd: string, name: string): string {
    return path.posix.resolve(cwd, name.replaceAll('\\', '/'));
  }

  contains(realPath: string): boolean {
    return realPath === this.root || realPath.startsWith(this.root + path.sep);
  }

  /** The real path of an existing file or folder, links followed; refused if that lands outside. */
  async existing(virtualPath: string): Promise<string> {
    const real = await realpath(path.join(this.root, virtualPath));
    if (!this.contains(real)) throw new ReplyError(550, `${virtualPath}: leads outside your folder`);
    return real;
  }

  /**
   * Where the entry `virtualPath` itself lives: the real path of its folder (checked), plus its name,
   * unresolved. For creating, deleting and renaming, which act on a link, never on what it points to.
   */
  async entry(virtualPath: string): Promise<string> {
    if (virtualPath === '/') throw new ReplyError(550, '/: your own top folder cannot be changed');
    const folder = await this.existing(path.posix.dirname(virtualPath));
    return path.join(folder, path.posix.basename(virtualPath));
  }
}
