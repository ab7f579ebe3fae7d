import { open } from 'node:fs/promises';

/**
 * Durability on a POSIX file system: a rename or a new file name is only on disk once its directory
 * has been fsync'ed (fsync(2), "Calling fsync() does not necessarily ensure that the entry in the
 * directory containing the file has also reached disk").
 */

/** Writes a new file and flushes its data to disk before resolving. Fails if the file exists. */
export async function writeDurably(file: string, data: Buffer, mtime?: Date): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    if (mtime) await handle.utimes(mtime, mtime);
    // fdatasync: the data and the size (needed to read it back); the timestamps can wait.
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * fsync of one directory, shared by every caller waiting on it: group commit. A caller that renamed
 * a file into the directory waits for an fsync that *started after* its rename; one fsync then
 * covers every rename made while the previous one was running. Under load (32 SMTP sessions
 * delivering at once) this turns 32 directory fsyncs into one or two, and no caller is ever told
 * "durable" before its own rename is on disk.
 */
export class DirectorySync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(readonly dir: string) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    // The fsync in flight may have started before our rename: wait for the one after it.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<void> {
    this.next = null;
    return this.start();
  }

  private start(): Promise<void> {
    const run = fsyncDirectory(this.dir).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One DirectorySync per directory, so every writer of a directory joins the same group. */
export class DirectorySyncs {
  private readonly byDir = new Map<string, DirectorySync>();

  of(dir: string): DirectorySync {
    let sync = this.byDir.get(dir);
    if (!sync) {
      sync = new DirectorySync(dir);
      this.byDir.set(dir, sync);
    }
    return sync;
  }
}
