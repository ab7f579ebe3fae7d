import { lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { resolveInside } from './jail.js';
import { readStart } from './read-start.js';

/**
 * Read-only view of a user's FTP home, $DATA/files/<user>/: a plain folder tree, as vsftpd keeps it.
 * Every path goes through the jail (jail.ts) first.
 */

export interface Entry {
  name: string;
  type: 'dir' | 'file' | 'link' | 'other';
  size: number;
  mtime: string;
}

export type FileView =
  | { path: string; type: 'dir'; entries: Entry[] }
  /** `text` is null for a binary file (a NUL byte, or not UTF-8). */
  | { path: string; type: 'file'; size: number; mtime: string; text: string | null; truncated: boolean };

/** The most bytes of a file shown as text. */
const MAX_SHOWN = 256 * 1024;
/** The most entries listed in one folder. */
const MAX_ENTRIES = 1_000;

export async function viewPath(userRoot: string, relative: string): Promise<FileView> {
  const real = await resolveInside(userRoot, relative);
  const top = await resolveInside(userRoot, '');
  const shown = `/${path.relative(top, real).split(path.sep).join('/')}`;
  const stat = statSync(real);
  if (stat.isDirectory()) return { path: shown, type: 'dir', entries: listDir(real) };
  const bytes = readStart(real, MAX_SHOWN);
  return {
    path: shown,
    type: 'file',
    size: stat.size,
    mtime: stat.mtime.toISOString(),
    text: asText(bytes),
    truncated: stat.size > MAX_SHOWN,
  };
}

/**
 * The folder's entries. The folder changes while it is read: an FTP upload's temp file is renamed
 * into place as the panel refreshes after the session (that refresh comes when the FTP session
 * closes), a DELE runs. An entry gone between readdir and its lstat is left out, not an error that
 * fails the whole listing. `lstatOf`: lstatSync, or a test's own.
 */
export function listDir(dir: string, lstatOf: (file: string) => Stats = lstatSync): Entry[] {
  const entries: Entry[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true }).slice(0, MAX_ENTRIES)) {
    const type = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : 'other';
    let st: Stats;
    try {
      // lstat: a link is described, not followed (its target may be outside the folder).
      st = lstatOf(path.join(dir, d.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    entries.push({ name: d.name, type, size: type === 'file' ? st.size : 0, mtime: st.mtime.toISOString() });
  }
  return entries.sort(
    (a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name),
  );
}

/** Text if it is UTF-8 without NUL bytes; a cut at MAX_SHOWN may split the last character, allowed. */
function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.length >= MAX_SHOWN ? new TextDecoder('utf-8').decode(bytes) : null;
  }
}
