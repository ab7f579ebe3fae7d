/**
 * Buffers of one size, handed from one transfer to the next instead of made for each.
 *
 * Why: a Buffer of 1 MiB lives outside V8's heap, and V8 counts such memory as it is made: every
 * few dozen MiB made, it runs a collection of the whole heap ("external memory pressure"). Two
 * fresh 1 MiB buffers per download made 50 parallel downloads of 10 MB run fourteen full
 * collections in a second, most of the server's processor time after the transfers themselves.
 * Reused buffers are made once; the ones a burst leaves over are kept up to a limit, and all are
 * let go after a quiet while, so an idle lab does not hold them.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly quiet: NodeJS.Timeout;

  constructor(
    /** The size of every buffer. */
    readonly size: number,
    /** How many free buffers are kept for the next transfers; more are left to the collector. */
    private readonly keep: number,
    /** After this long without a buffer taken, the free ones are let go. */
    idleMs = 30_000,
  ) {
    this.quiet = setTimeout(() => this.free.splice(0), idleMs);
    this.quiet.unref();
  }

  /** A buffer of `size` bytes, of unspecified content. */
  take(): Buffer {
    this.quiet.refresh();
    // allocUnsafeSlow: never a slice of Node's shared 8 KiB pool (not at these sizes anyway).
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Gives a buffer back: only once no read or write still uses it. */
  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}
