/**
 * Upload rates: a token bucket that makes one peer send no faster than its simulated uplink, and
 * the parser for rates written as a person writes them ("2MB/s").
 */

/**
 * A token bucket: tokens (bytes) flow in at `rate` per second up to `burst`; sending a block
 * takes as many tokens as it has bytes, and waits when the bucket is short. Waiters are served in
 * order, so peers sharing one uplink share it fairly.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private queue: { bytes: number; resolve: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rate: number,
    readonly burst = Math.max(64 * 1024, rate / 20),
  ) {
    this.tokens = burst;
  }

  /**
   * Takes the tokens now if the bucket has them and nobody waits before us: the common case needs
   * no promise, so an uncapped peer sends a whole batch of blocks in one go. False: call `take`.
   */
  tryTake(bytes: number): boolean {
    if (!Number.isFinite(this.rate)) return true;
    if (this.queue.length > 0) return false;
    this.refill();
    if (this.tokens < Math.min(bytes, this.burst)) return false;
    this.tokens -= bytes;
    return true;
  }

  take(bytes: number): Promise<void> {
    if (!Number.isFinite(this.rate)) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ bytes, resolve });
      this.drain();
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && this.tokens >= Math.min(this.queue[0]!.bytes, this.burst)) {
      const next = this.queue.shift()!;
      this.tokens -= next.bytes; // may go below zero for a block larger than the burst: repaid later
      next.resolve();
    }
    if (this.queue.length > 0 && !this.timer) {
      const wait = ((Math.min(this.queue[0]!.bytes, this.burst) - this.tokens) / this.rate) * 1000;
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.drain();
        },
        Math.max(1, wait),
      );
    }
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  ki: 1024,
  m: 1e6,
  mi: 1024 ** 2,
  g: 1e9,
  gi: 1024 ** 3,
};

/** "2MB/s", "500kB/s", "10MiB/s", "1.5M": bytes per second. "0" or "unlimited" means no cap. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?)?b?(?:\/s)?\s*$/i.exec(text);
  if (/^\s*(0|unlimited)\s*$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (!m) {
    throw new Error(`bad rate '${text}': write it like 2MB/s, 500kB/s or 10MiB/s (0 for no limit)`);
  }
  return Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!;
}

/** 1234567 -> "1.2 MB" (SI units, as parseRate reads them). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
