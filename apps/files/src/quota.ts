import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bytes a user's folder holds, as `du` counts them: every file but those `skip` names, links counted
 * as links, never followed out. Walking the folder at each upload is fine for a lab account (100 MB
 * by default); a large site would keep a running total instead.
 *
 * The folder changes while it is walked: another upload of the same user ends (its temp file is
 * renamed or removed), a DELE runs. An entry gone between the listing and its lstat holds nothing
 * now: counted 0, never an error (a STOR was refused "550 no such file or folder" for a temp file
 * of another upload, removed meanwhile). `lstatOf`: lstat(2), or a test's own.
 */
export async function usedBytes(
  folder: string,
  skip: (name: string) => boolean = () => false,
  lstatOf: (file: string) => Promise<Stats> = lstat,
): Promise<number> {
  let total = 0;
  const entries = await readdir(folder, { withFileTypes: true }).catch(goneAsNothing([]));
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) total += await usedBytes(full, skip, lstatOf);
    else if (!skip(entry.name)) total += (await lstatOf(full).catch(goneAsNothing(null)))?.size ?? 0;
  }
  return total;
}

/** A catch handler: ENOENT (the entry went meanwhile) gives `nothing`; any other error is thrown on. */
function goneAsNothing<T>(nothing: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return nothing;
    throw err;
  };
}
