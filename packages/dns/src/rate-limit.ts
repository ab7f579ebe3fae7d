/**
 * Queries per second from one address, as BIND's response rate limiting (RRL, `rate-limit {
 * responses-per-second … }`) bounds them: past the limit a query is dropped unread, which costs
 * the server one map lookup. A student's flood then no longer fills the socket's receive buffer
 * with work (classmates' queries behind it were lost) nor the transcript with lines.
 *
 * Counted in windows of one second, every address afresh in each: a few numbers in a map that is
 * emptied every second, and bounded within one (MAX_ADDRESSES).
 */

/** A class's resolvers and `dig` loops ask far fewer; a flood asks thousands. */
export const QUERIES_PER_SECOND = 50;
/** Addresses counted within one second: past it (a flood from forged sources), new ones are not limited. */
const MAX_ADDRESSES = 10_000;
const WINDOW_MS = 1000;

export type Verdict = 'answer' | 'first-drop' | 'drop';

export class RateLimit {
  private windowStart = 0;
  /** Queries from each address in this window; -1: an address that is never limited. */
  private readonly counts = new Map<string, number>();

  /** @param limited whether queries from this address are limited (not the lab machine's own). */
  constructor(
    private readonly limited: (address: string) => boolean,
    readonly perSecond = QUERIES_PER_SECOND,
  ) {}

  /** Counts a query from `address`: answer it, or drop it (the first drop of a window is logged). */
  check(address: string, now = Date.now()): Verdict {
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.counts.clear();
    }
    let count = this.counts.get(address);
    if (count === undefined) {
      if (this.counts.size >= MAX_ADDRESSES) return 'answer';
      count = this.limited(address) ? 0 : -1;
    }
    if (count === -1) {
      this.counts.set(address, -1);
      return 'answer';
    }
    this.counts.set(address, count + 1);
    if (count < this.perSecond) return 'answer';
    return count === this.perSecond ? 'first-drop' : 'drop';
  }
}
