import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';

/**
 * $DATA/files/<user>/, and public_html/ in it: what the web app serves at /~user/. Made again if
 * missing at each login (a folder removed by hand comes back), without leaving the event loop: on a
 * folder that exists, one mkdir(2) that says so and a stat, microseconds, where a trip to libuv's
 * thread pool costs more than the calls.
 */
export function ensureHome(config: LabConfig, user: string): string {
  const home = path.join(config.paths.files, user);
  mkdirSync(path.join(home, 'public_html'), { recursive: true, mode: 0o755 });
  return home;
}

/** $DATA/files/public/: what anonymous FTP may read (files.anonymous). */
export function ensurePublic(config: LabConfig): string {
  const folder = path.join(config.paths.files, 'public');
  mkdirSync(folder, { recursive: true, mode: 0o755 });
  return folder;
}
