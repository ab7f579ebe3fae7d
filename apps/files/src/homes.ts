import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';

/** $DATA/files/<user>/, and public_html/ in it: what the web app serves at /~user/. */
export async function ensureHome(config: LabConfig, user: string): Promise<string> {
  const home = path.join(config.paths.files, user);
  await mkdir(path.join(home, 'public_html'), { recursive: true, mode: 0o755 });
  return home;
}

/** $DATA/files/public/: what anonymous FTP may read (files.anonymous). */
export async function ensurePublic(config: LabConfig): Promise<string> {
  const folder = path.join(config.paths.files, 'public');
  await mkdir(folder, { recursive: true, mode: 0o755 });
  return folder;
}
