import path from 'node:path';
import { USER_NAME } from '@portlab/config';
import { Jail, JailError } from '@portlab/service';

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
 * The real path of `relative` inside `root`, or an error: the jail of @portlab/service checks the
 * name, then the real path (symbolic links followed), so a link pointing out of the folder is refused;
 * `/` is the user's folder itself, as for a chroot'ed FTP server. A `..` climbing above it is refused
 * rather than stopped there: no page of the dashboard sends one, so it is an attempt worth naming.
 */
export async function resolveInside(root: string, relative: string): Promise<string> {
  try {
    const virtualPath = Jail.virtual('/', relative, 'refuse');
    const jail = await Jail.open(root).catch(() => {
      throw new BrowseError(
        404,
        `nothing for ${path.basename(root)} yet (no mail delivered, no file uploaded)`,
      );
    });
    return await jail.existing(virtualPath);
  } catch (err) {
    throw err instanceof JailError ? browseError(err, relative) : err;
  }
}

/** A jail's refusal in the dashboard's words, with the status that says why. */
function browseError(err: JailError, relative: string): BrowseError {
  switch (err.reason) {
    case 'invalid':
      return new BrowseError(400, err.why);
    case 'outside':
      return new BrowseError(403, `'${relative}' is outside the user's folder`);
    case 'link':
      return new BrowseError(403, `'${relative}' leads outside the user's folder (a symbolic link)`);
    case 'not-found':
      return new BrowseError(404, `not found: ${relative}`);
  }
}
