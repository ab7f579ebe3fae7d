import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { APPS, type LabConfig, USER_NAME } from '@portlab/config';
import { MailStore } from '@portlab/mailstore';
import { isAlive, readRunState } from '@portlab/service';
import { sendControl } from '../control.js';

/**
 * What an account owns on disk, in the layouts the apps use (docs/architecture.md, "Data"): its
 * Maildir++ ($DATA/mail/<user>/, made by @portlab/mailstore with its default folders) and its FTP
 * home ($DATA/files/<user>/ with public_html/, which the web app serves at /~user/, as apps/files
 * makes it on first login).
 */
export async function makeHome(config: LabConfig, store: MailStore, user: string): Promise<void> {
  await mkdir(path.join(config.paths.files, user, 'public_html'), { recursive: true, mode: 0o755 });
  await store.mailbox(user);
}

/** Deletes an account's mail and files. Only ever a valid account name, so never a path out of them. */
export async function wipeHome(config: LabConfig, user: string): Promise<void> {
  if (!USER_NAME.test(user)) throw new Error(`refusing to wipe '${user}': not an account name`);
  await rm(path.join(config.paths.mail, user), { recursive: true, force: true });
  await rm(path.join(config.paths.files, user), { recursive: true, force: true });
}

/**
 * Wipes then makes again, empty, the homes of `users`, all at once: one MailStore, so the fsyncs of
 * the new Maildirs' parent folder are group-committed (packages/mailstore durable.ts) instead of one
 * per student.
 */
export async function renewHomes(config: LabConfig, users: readonly string[]): Promise<void> {
  const store = new MailStore(config.paths.mail);
  await Promise.all(
    users.map(async (user) => {
      await wipeHome(config, user);
      await makeHome(config, store, user);
    }),
  );
}

/**
 * What of the lab runs on this data dir now: the supervisor (its control socket answers) or an app
 * started alone (its run file names a live pid). Empty when nothing does.
 */
export async function runningOn(config: LabConfig): Promise<string[]> {
  const found: string[] = [];
  const supervisor = await sendControl(config.paths.run, { command: 'status' }, 2000).then(
    () => true,
    () => false,
  );
  if (supervisor) found.push('portlab up');
  for (const app of APPS) {
    const state = readRunState(config.paths.run, app);
    if (state && isAlive(state.pid)) found.push(`the ${app} app (pid ${state.pid})`);
  }
  return found;
}

/**
 * Moves the transcripts ($DATA/log/) to $DATA/class/archive/<time>/log/, out of the lab's way: the
 * checks read them, and a new class's e07 must not find the last class's e07's work there (nor its
 * passwords, typed in clear). The teacher keeps them, readable by the lab's owner only. Returns the
 * folder, or null when there was nothing to move.
 */
export async function archiveLogs(config: LabConfig): Promise<string | null> {
  if (!existsSync(config.paths.log)) return null;
  const entries = await readdir(config.paths.log);
  if (entries.length === 0) return null;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const archive = path.join(config.paths.class, 'archive', stamp);
  await mkdir(archive, { recursive: true, mode: 0o700 });
  await rename(config.paths.log, path.join(archive, 'log'));
  await mkdir(config.paths.log, { recursive: true });
  return path.join(archive, 'log');
}
