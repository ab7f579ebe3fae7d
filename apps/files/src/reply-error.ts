import { JailError } from '@portlab/service';

/**
 * A refusal with the FTP reply code that says why (RFC 959 §4.2): 550 file unavailable, 552 storage
 * allocation exceeded, 553 name not allowed, 425 no data connection… The message is what the client
 * reads after the code, so it names the user's own path only, never where the file lives on the server.
 * ftp-srv's own command handlers read `.message` of what our FileSystem throws; ours also use `.code`.
 */
export class ReplyError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReplyError';
  }
}

/** What each file system error means, in words: never Node's message, which holds the server's path. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  ENOTDIR: 'not a folder',
  EISDIR: 'is a folder',
  ENOTEMPTY: 'folder not empty',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EINVAL: 'cannot move a folder into itself',
  ENOSPC: 'the server disk is full',
};

/**
 * Turns any error met while working on `virtualPath` into a reply that names only that path. A jail's
 * refusal is a 550 as it says it ("/evil: leads outside your folder"); for one of nothing found, the
 * system error behind it says more precisely why ("not a folder", "permission denied").
 */
export function fileError(virtualPath: string, err: unknown, code = 550): ReplyError {
  if (err instanceof ReplyError) return err;
  if (err instanceof JailError && err.reason !== 'not-found') return new ReplyError(550, err.message);
  const cause = err instanceof JailError ? err.cause : err;
  const reason = REASONS[(cause as NodeJS.ErrnoException).code ?? ''] ?? 'cannot be done';
  return new ReplyError(code, `${virtualPath}: ${reason}`);
}
