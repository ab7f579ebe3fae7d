import { stat } from 'node:fs/promises';

/**
 * How a directory or file looked at the last look, so the next look can tell "nothing changed"
 * from three stat() calls instead of reading 10,000 directory entries (Dovecot does the same
 * with the mtimes of new/ and cur/). Any rename, delivery or unlink in a directory changes its
 * mtime; an atomic replace of a file changes its inode, an append its size.
 *
 * The trap is the clock's granularity: the kernel stamps mtimes from a clock that moves in ticks
 * (1-10 ms on Linux; whole seconds on some file systems), so a change made in the same tick as our
 * look leaves the same mtime. A stamp whose mtime is that close to the moment of the look is not
 * trusted: the next look reads the directory again ("racy" timestamps, as git calls them).
 */
export interface Stamp {
  mtimeNs: bigint;
  size: bigint;
  ino: bigint;
  /** The mtime is old enough that a later change cannot share it. */
  trusted: boolean;
}

/** A fine-grained mtime may be a tick old when the kernel writes it: 100 ms is ample. */
const RACY_NS = 100_000_000n;
/** File systems with whole-second mtimes (the nanoseconds are 0): two seconds. */
const RACY_COARSE_NS = 2_000_000_000n;

/**
 * The stamp of a file or directory now, or null if it does not exist. `racy: false` for a file that
 * changes only by atomic replace (a new inode) or append (a larger size) under a lock: those two
 * tell every change, whatever the clock says.
 */
export async function stampOf(file: string, { racy = true } = {}): Promise<Stamp | null> {
  const looked = BigInt(Date.now()) * 1_000_000n;
  const info = await stat(file, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!info) return null;
  const window = info.mtimeNs % 1_000_000_000n === 0n ? RACY_COARSE_NS : RACY_NS;
  return {
    mtimeNs: info.mtimeNs,
    size: info.size,
    ino: info.ino,
    trusted: !racy || looked - info.mtimeNs > window,
  };
}

/** True if `before` may be trusted and `now` shows the same thing. */
export function unchanged(before: Stamp | null, now: Stamp | null): boolean {
  return (
    before !== null &&
    now !== null &&
    before.trusted &&
    before.mtimeNs === now.mtimeNs &&
    before.size === now.size &&
    before.ino === now.ino
  );
}
