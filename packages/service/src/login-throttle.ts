import { accountName, type UserStore } from '@portlab/config';
import type { Session } from '@portlab/transcript';

/**
 * A growing delay after failed logins from one address, as real servers do (Dovecot's
 * auth_failure_delay, OpenSSH's per-connection delay): guessing passwords gets slow, a typo does not.
 * Every protocol that takes a password (SMTP AUTH, POP3, IMAP, FTP) asks the one throttle of its app.
 */
export interface ThrottleOptions {
  /** Delay after the first failure. */
  baseDelayMs?: number;
  /** The delay doubles with each failure up to this. */
  maxDelayMs?: number;
  /** Failures older than this are forgotten. */
  forgetAfterMs?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; last: number }>();
  private readonly base: number;
  private readonly max: number;
  private readonly forget: number;

  constructor(options: ThrottleOptions = {}) {
    this.base = options.baseDelayMs ?? 250;
    this.max = options.maxDelayMs ?? 8000;
    this.forget = options.forgetAfterMs ?? 15 * 60_000;
  }

  /** Failures recorded for this address (recently). */
  failuresOf(address: string): number {
    const entry = this.failures.get(address);
    if (!entry || Date.now() - entry.last > this.forget) return 0;
    return entry.count;
  }

  /** The delay the next failure from this address will cost: base, 2×base, 4×base, … up to max. */
  delayFor(address: string): number {
    return Math.min(this.base * 2 ** this.failuresOf(address), this.max);
  }

  /** Records a failure and waits before the caller answers it. */
  async failed(address: string): Promise<number> {
    const delay = this.delayFor(address);
    this.failures.set(address, { count: this.failuresOf(address) + 1, last: Date.now() });
    if (this.failures.size > 10_000) this.prune();
    await new Promise((resolve) => setTimeout(resolve, delay));
    return delay;
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  /**
   * A login as every protocol does it: the password checked against the lab's accounts, a wrong one
   * answered only after the growing delay, a right one clearing the address's failures. With the
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
    login.transcript?.login(user ?? accountName(login.name, login.domain), user !== null);
    if (!user) return { user: null, waitedMs: await this.failed(login.address) };
    this.succeeded(login.address);
    return { user };
  }

  private prune(): void {
    const now = Date.now();
    for (const [address, entry] of this.failures)
      if (now - entry.last > this.forget) this.failures.delete(address);
  }
}
