import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bytes a user's folder holds, as `du` counts them: every file but those `skip` names, links counted
 * as links, never followed out. Walking the folder at each upload is fine for a lab account (100 MB
 * by default); a large site would keep a running total instead.
 */
export async function usedBytes(
  folder: string,
  skip: (name: string) => boolean = () => false,
): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) total += await usedBytes(full, skip);
    else if (!skip(entry.name)) total += (await lstat(full)).size;
  }
  return total;
}

/** "100 MB", "1.5 GB": sizes a student reads at a glance. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toPrecision(3))} ${units[unit]}`;
}
