/** A message's header as kept in the cache, and the last HEADER.FIELDS block made from it. */
export interface CachedHeader {
  readonly id: string;
  readonly header: Buffer;
  /**
   * BODY[HEADER.FIELDS (...)] as last asked of this message, under the section's name. A mail
   * client asks the same fields of every message at each sync: the second time they are bytes
   * ready to send, not a header to go through again.
   */
  fields: { name: string; bytes: Buffer } | null;
  /** Used since the cache last passed it looking for something to evict (see grow). */
  used: boolean;
}

/** What a kept Buffer costs beyond its bytes (its object, its entry), as process.memoryUsage() shows. */
const BUFFER_OVERHEAD = 200;

/**
 * Message headers kept in memory, keyed by the store's message id: a message's bytes never change,
 * so a header read once stays right. A mail client's first sync fetches a few header fields of
 * every message; a second client, or the same one tomorrow, then costs no disk read.
 * One cache for the whole server (every session shares it), bounded by the memory it takes
 * (headers, field blocks and their objects): about 1 KB a message of a mail client's INBOX, so
 * 10 MB for 10,000 messages, and never more than 32 MB.
 *
 * What goes first when it is full is chosen as an operating system chooses a page to evict, by
 * the "second chance" (CLOCK) rule: the oldest entry goes, unless it was used since it was last
 * looked at; then it is marked unused and moved to the back. Nearly least-recently-used, and a
 * lookup only sets a mark: a FETCH of 10,000 headers does not reorder the cache 10,000 times.
 */
export class HeaderCache {
  private readonly entries = new Map<string, CachedHeader>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(id: string): CachedHeader | undefined {
    const entry = this.entries.get(id);
    if (entry) entry.used = true;
    return entry;
  }

  /** Keeps a header; the entry is returned even when the header is too large to keep. */
  set(id: string, header: Buffer): CachedHeader {
    const known = this.get(id);
    if (known) return known;
    if (header.length > this.maxBytes / 64) return { id, header, fields: null, used: false };
    // A copy, so the cache does not pin the whole message the header was sliced from. Used: it was just read.
    const entry: CachedHeader = { id, header: Buffer.from(header), fields: null, used: true };
    this.entries.set(id, entry);
    this.grow(weightOf(entry));
    return entry;
  }

  /** Keeps a HEADER.FIELDS block with its header, in place of the one kept before. */
  setFields(entry: CachedHeader, name: string, bytes: Buffer): void {
    const before = weightOf(entry);
    entry.fields = { name, bytes };
    if (this.entries.get(entry.id) === entry) this.grow(weightOf(entry) - before);
  }

  private grow(bytes: number): void {
    this.bytes += bytes;
    // A Map iterates in insertion order, and goes on to the entries put back at its end meanwhile.
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        this.entries.set(oldest, entry);
      } else {
        this.bytes -= weightOf(entry);
      }
    }
  }
}

/** The memory an entry takes: its bytes and the objects that hold them. */
function weightOf(entry: CachedHeader): number {
  const fields = entry.fields ? entry.fields.bytes.length + BUFFER_OVERHEAD : 0;
  return entry.header.length + BUFFER_OVERHEAD + fields;
}
