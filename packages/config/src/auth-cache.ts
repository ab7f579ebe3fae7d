import { createHmac, randomBytes } from 'node:crypto';

/**
 * Remembers, for a while, the logins that were right, as Dovecot's auth cache does (auth_cache_ttl):
 * a scrypt check is slow on purpose (about 50 ms of CPU, RFC 7914), and a class's mail clients log in
 * again and again with the same password (Thunderbird opens several IMAP connections, a submission
 * logs in for each message). Thirty students doing that at once would queue behind one another's
 * hashes. Only successes are kept: a wrong password always costs the whole scrypt check (and the
 * login throttle's delay), so guessing gets no faster.
 *
 * What is kept is not the password but an HMAC of (stored hash, password) under a key made at random
 * for this process: nothing in memory gives a password back, and a new password (a new stored hash)
 * never matches an old entry.
 */
export class AuthCache {
  private readonly key = randomBytes(32);
  private readonly ok = new Map<string, number>();
  /** Checks under way, so that three connections logging in at once cost one hash, not three. */
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** `verify(password, storedHash)`, answered from the cache when this pair was right lately. */
  async verify(
    password: string,
    storedHash: string,
    verify: (password: string, storedHash: string) => Promise<boolean>,
  ): Promise<boolean> {
    const id = createHmac('sha256', this.key)
      .update(storedHash)
      .update('\0')
      .update(password)
      .digest('base64');
    const until = this.ok.get(id);
    if (until !== undefined && until > Date.now()) return true;
    const running = this.pending.get(id);
    if (running) return running;
    const check = verify(password, storedHash).finally(() => this.pending.delete(id));
    this.pending.set(id, check);
    const right = await check;
    if (right) this.remember(id);
    return right;
  }

  private remember(id: string): void {
    if (this.ok.size >= this.maxEntries) {
      const now = Date.now();
      for (const [k, until] of this.ok) if (until <= now) this.ok.delete(k);
      // Still full: forget the oldest (a Map iterates in insertion order).
      for (const k of this.ok.keys()) {
        if (this.ok.size < this.maxEntries) break;
        this.ok.delete(k);
      }
    }
    this.ok.delete(id);
    this.ok.set(id, Date.now() + this.ttlMs);
  }
}
