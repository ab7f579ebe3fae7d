import type { StoredFolder, StoredMessage } from './storage.js';

/**
 * One look at a folder shared by every session that needs it. A delivery makes all the sessions
 * with that mailbox selected look at the store again; fifty sessions asking at once get one
 * listing, not fifty. A session joins a listing only if it started after the change the session
 * heard of (the generation), so nobody gets a listing older than its news.
 */
export class FolderSnapshots {
  private readonly generation = new Map<string, number>();
  private readonly running = new Map<string, { generation: number; listing: Promise<StoredMessage[]> }>();

  /** The change feed reported a change to this folder. */
  changed(key: string): void {
    this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
  }

  /** The current generation: what a session heard of when it noted news. */
  current(key: string): number {
    return this.generation.get(key) ?? 0;
  }

  /** The folder's messages as of generation `atLeast` or later. */
  messages(key: string, folder: StoredFolder, atLeast: number): Promise<StoredMessage[]> {
    const running = this.running.get(key);
    if (running && running.generation >= atLeast) return running.listing;
    const generation = this.current(key);
    const listing = folder.messages().finally(() => {
      if (this.running.get(key)?.listing === listing) this.running.delete(key);
    });
    this.running.set(key, { generation, listing });
    return listing;
  }
}
