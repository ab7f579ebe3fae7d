import { accountName, type LabConfig, type UserStore } from '@portlab/config';
import type { Session } from '@portlab/transcript';

/**
 * A growing delay after failed logins, as real servers do (Dovecot's auth_failure_delay, OpenSSH's
 * per-connection delay): guessing passwords gets slow, a typo does not. Every protocol that takes a
 * password (SMTP AUTH, POP3, IMAP, FTP, the web sign-in) asks the one throttle of its app.
 *
 * What counts together (`per`): by default the failures of one source address *on one account*. A
 * class behind one NAT address is one source address: counted per address alone, one student's typos
 * would slow every classmate's login. Per address and account, guessing one account's password still
 * slows down as fast; what it lets through is trying one password on many accounts from one address
 * (at most one try per account at the base delay), which a lab of a few dozen accounts accepts.
 * `per: 'address'` (config `login.throttleBy`) counts every failure of an address together.
 */
export interface ThrottleOptions {
  /** Delay after the first failure. */
  baseDelayMs?: number;
  /** The delay doubles with each failure up to this. */
  maxDelayMs?: number;
  /** Failures older than this are forgotten. */
  forgetAfterMs?: number;
  /** What failures are counted by: source address and account (default), or source address alone. */
  per?: 'account' | 'address';
}

/** The throttle the config asks for (`login` in the lab config). */
export function throttleOf(config: Pick<LabConfig, 'login'>): LoginThrottle {
  return new LoginThrottle({
    baseDelayMs: config.login.failureDelayMs,
    maxDelayMs: config.login.maxDelayMs,
    per: config.login.throttleBy,
  });
}

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();
  private readonly base: number;
  private readonly max: number;
  private readonly forget: number;
  readonly per: 'account' | 'address';

  constructor(options: ThrottleOptions = {}) {
    this.base = options.baseDelayMs ?? 250;
    this.max = options.maxDelayMs ?? 8000;
    this.forget = options.forgetAfterMs ?? 15 * 60_000;
    this.per = options.per ?? 'account';
  }

  /** What a login try's failures are counted under: "address account", or the address alone. */
  keyOf(address: string, account: string | null): string {
    return this.per === 'address' ? address : `${address} ${account ?? ''}`;
  }

  /** Failures recorded under this key (recently). */
  failuresOf(key: string): number {
    const entry = this.failures.get(key);
    if (!entry || Date.now() - entry.last > this.forget) return 0;
    return entry.count;
  }

  /** The delay the next failure under this key will cost: base, 2×base, 4×base, … up to max. */
  delayFor(key: string): number {
    return Math.min(this.base * 2 ** this.failuresOf(key), this.max);
  }

  /** Records a failure and waits before the caller answers it. */
  async failed(key: string): Promise<number> {
    const delay = this.delayFor(key);
    this.failures.set(key, { count: this.failuresOf(key) + 1, last: Date.now() });
    if (this.failures.size > 10_000) this.prune();
    await new Promise((resolve) => setTimeout(resolve, delay));
    return delay;
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }

  /**
   * A login as every protocol does it: the password checked against the lab's accounts, a wrong one
   * answered only after the growing delay, a right one clearing the failures of its key. With the
   * connection's `transcript` session, the try is written there (Session.login: which account, right
   * or wrong) before any delay: that is how the web app knows whose password the session's
   * credentials lines carry, and shows it to that student only.
   */
  async authenticate(
    users: Pick<UserStore, 'authenticate'>,
    login: {
      name: string;
      password: string;
      domain: string;
      address: string;
      transcript?: Pick<Session, 'login'> | undefined;
    },
  ): Promise<{ user: string } | { user: null; waitedMs: number }> {
    const user = await users.authenticate(login.name, login.password, login.domain);
    const named = user ?? accountName(login.name, login.domain);
    login.transcript?.login(named, user !== null);
    // A name that is no account of this lab counts as its lower-cased self (each typo its own key).
    const key = this.keyOf(login.address, named ?? login.name.toLowerCase());
    if (!user) return { user: null, waitedMs: await this.failed(key) };
    this.succeeded(key);
    return { user };
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, entry] of this.failures) if (now - entry.last > this.forget) this.failures.delete(key);
  }
}
