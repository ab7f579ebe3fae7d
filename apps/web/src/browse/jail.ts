import { realpathSync } from 'node:fs';
import path from 'node:path';
import { USER_NAME } from '@portlab/config';

/** A refusal with the HTTP status that says why: 400 bad input, 403 outside the jail, 404 not there. */
export class BrowseError extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** A user's own folder under $DATA/mail or $DATA/files; the name is checked as accounts are. */
export function userRoot(base: string, user: string): string {
  if (!USER_NAME.test(user)) {
    throw new BrowseError(
      400,
      `'${user}' is not a user name: a lower-case letter, then letters, digits, '.', '_' or '-'`,
    );
  }
  return path.join(base, user);
}

/**
 * The real path of `relative` inside `root`, or an error. The check is on the real path (symbolic
 * links followed), not on the text: `a/../../b` or a link pointing out of the folder end outside
 * `root` and are refused; `/` is the user's folder itself, as for a chroot'ed FTP server.
 */
export function resolveInside(root: string, relative: string): string {
  if (relative.includes('\0')) throw new BrowseError(400, 'a path cannot hold a NUL byte');
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new BrowseError(
      404,
      `nothing for ${path.basename(root)} yet (no mail delivered, no file uploaded)`,
    );
  }
  const wanted = path.resolve(realRoot, `.${path.sep}${relative}`);
  if (!isInside(realRoot, wanted)) throw new BrowseError(403, `'${relative}' is outside the user's folder`);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new BrowseError(404, `not found: ${relative}`);
  }
  if (!isInside(realRoot, real)) {
    throw new BrowseError(403, `'${relative}' leads outside the user's folder (a symbolic link)`);
  }
  return real;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}
