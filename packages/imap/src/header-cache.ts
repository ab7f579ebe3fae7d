/**
 * Message headers kept in memory, keyed by the store's message id: a message's bytes never change,
 * so a header read once stays right. A mail client's first sync fetches a few header fields of
 * every message; a second client, or the same one tomorrow, then costs no disk read.
 * Bounded by bytes; the least recently used go first.
 */
export class HeaderCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(id: string): Buffer | undefined {
    const header = this.entries.get(id);
    if (header) {
      this.entries.delete(id);
      this.entries.set(id, header);
    }
    return header;
  }

  set(id: string, header: Buffer): void {
    if (header.length > this.maxBytes / 64 || this.entries.has(id)) return;
    // A copy, so the cache does not pin the whole message the header was sliced from.
    this.entries.set(id, Buffer.from(header));
    this.bytes += header.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }
}
