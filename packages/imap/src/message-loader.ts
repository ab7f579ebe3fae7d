import type { HeaderCache } from './header-cache.js';
import { headerEnd } from './mime/structure.js';
import type { StoredFolder, StoredMessage } from './storage.js';

/**
 * Reads messages of a folder for FETCH and SEARCH: the whole bytes, or only the header (from the
 * header cache when it has it). Up to BATCH reads run at once, so a FETCH of many messages waits
 * for the disk a few times, not once per message.
 */
export const BATCH = 32;

/** Bytes read first when only the header is wanted (a message of 20 KB costs a 4 KB read). */
const HEADER_GUESS = 4096;

export class MessageLoader {
  constructor(
    private readonly folder: StoredFolder,
    private readonly cache: HeaderCache,
  ) {}

  async bytes(message: StoredMessage): Promise<Buffer> {
    const bytes = await this.folder.read(message.uid);
    if (!this.cache.get(message.id)) this.cache.set(message.id, bytes.subarray(0, headerEnd(bytes)));
    return bytes;
  }

  /** The header if the cache has it (no waiting), else undefined. */
  cachedHeader(message: StoredMessage): Buffer | undefined {
    return this.cache.get(message.id);
  }

  async header(message: StoredMessage): Promise<Buffer> {
    const cached = this.cache.get(message.id);
    if (cached) return cached;
    // Most headers fit in the first few KB: read those, and the whole message only if they do not.
    let bytes = await this.folder.readStart(message.uid, HEADER_GUESS);
    if (bytes.length === HEADER_GUESS && headerEnd(bytes) === bytes.length)
      bytes = await this.folder.read(message.uid);
    const header = bytes.subarray(0, headerEnd(bytes));
    this.cache.set(message.id, header);
    return header;
  }
}

/** Runs `fn` over the items BATCH at a time, in order. */
export async function inBatches<T>(items: T[], fn: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await fn(items.slice(i, i + BATCH));
}
