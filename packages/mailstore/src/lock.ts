import { open, readFile, rm, stat } from 'node:fs/promises';

/**
 * A lock shared by every process that changes a folder's UID list: a dot-lock file created with
 * O_CREAT|O_EXCL, which the kernel lets exactly one process create (the scheme of Dovecot's
 * dotlocks and of mutt's mbox locks). Node has no flock/fcntl, and a dot-lock can be looked at with
 * `cat` in class. The file holds the holder's pid: a lock left by a process that died (SIGKILL, a
 * crash) is broken by the next process that wants it, so a crash never wedges the store.
 *
 * Known limit, as with every dot-lock: if two processes find the same dead holder at the same
 * instant, both may break it. That needs a crash and two waiting processes within microseconds.
 */

const RETRY_MS = 2;
const MAX_RETRY_MS = 50;
/**
 * A lock file still without a pid after this long was left by a process that died between creating
 * and writing it. A lock with a pid is judged by its pid alone: a live holder in a long expunge keeps it.
 */
const STALE_AFTER_MS = 30_000;
const GIVE_UP_AFTER_MS = 60_000;

/** Locks this process holds right now: a lock file naming our own pid but not in here is stale. */
const held = new Set<string>();

/**
 * The pid in a lock file tells processes apart, not two tasks of one process: a task that found our
 * own pid in a lock another task of ours had just taken (or was just freeing) would break it, and
 * both would go on. So the tasks of this process wait their turn here, one queue per lock file,
 * before they try the file at all (a lost subscription under concurrent SUBSCRIBEs, seen in CI).
 */
const turns = new Map<string, Promise<void>>();

export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const before = turns.get(lockFile) ?? Promise.resolve();
  let done!: () => void;
  const myTurn = new Promise<void>((resolve) => {
    done = resolve;
  });
  const mine = before.then(() => myTurn);
  turns.set(lockFile, mine);
  await before;
  try {
    await acquire(lockFile);
    held.add(lockFile);
    try {
      return await fn();
    } finally {
      held.delete(lockFile);
      // Remove it only if it is still ours: never free a lock another process took over.
      if ((await ownerOf(lockFile)) === process.pid) await rm(lockFile, { force: true });
    }
  } finally {
    done();
    if (turns.get(lockFile) === mine) turns.delete(lockFile);
  }
}

async function ownerOf(lockFile: string): Promise<number | null> {
  const text = await readFile(lockFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) ? pid : null;
}

async function acquire(lockFile: string): Promise<void> {
  const started = Date.now();
  let wait = RETRY_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockFile)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - started > GIVE_UP_AFTER_MS) {
      throw new Error(`${lockFile} has been held for over a minute: if no portlab process runs, delete it`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, MAX_RETRY_MS);
  }
}

async function isStale(lockFile: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    const pid = Number.parseInt(text, 10);
    // No pid yet: just created by a busy process, or left empty by one that died right then.
    if (!Number.isInteger(pid)) return Date.now() - info.mtimeMs > STALE_AFTER_MS;
    if (pid === process.pid) return !held.has(lockFile);
    return !processExists(pid);
  } catch (err) {
    // Removed between our open and our look: not stale, just free. Try again.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
