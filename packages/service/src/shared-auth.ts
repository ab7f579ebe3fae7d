import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { AuthCache, type PasswordVerifier, verifyPassword } from '@portlab/config';

/**
 * One password check for the whole lab, as Dovecot's auth process serves every imap-login and
 * pop3-login process: under `portlab up`, the apps (mail, files, web) ask the supervisor over their
 * IPC channel (a socket pair between the two processes, never the network) instead of each running
 * scrypt itself. A student's first IMAP login, FTP login and web sign-in then cost one scrypt hash,
 * not three, and the hashes run in the supervisor, whose libuv thread pool does nothing else: in
 * the mail app they took all four of its threads, and the Maildir reads and fsyncs of every other
 * session waited behind them.
 *
 * Nothing else changes: the app keeps its own cache of right logins (auth-cache.ts) and its login
 * throttle; the supervisor's cache is the same kind (an HMAC under a key of its own, successes
 * only, keyed by the stored hash, so one account's entry never answers for another). An app run
 * alone (`node apps/mail/dist/main.js`, the tests) checks passwords itself.
 */

/** The argument the supervisor starts an app with when it answers password checks. */
export const AUTH_FROM_SUPERVISOR = '--auth-from-supervisor';

/** App -> supervisor: is `password` right for this stored hash? */
export interface VerifyRequest {
  type: 'verify';
  id: number;
  password: string;
  hash: string;
}

/** Supervisor -> app: the answer to request `id`. */
export interface VerifyAnswer {
  type: 'verified';
  id: number;
  ok: boolean;
}

/** An answer this late means the supervisor is stuck: the app checks the password itself. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * In an app: a verifier that asks the supervisor, or null when this process was not started by
 * `portlab up` with AUTH_FROM_SUPERVISOR (then UserStore checks passwords itself).
 */
export function supervisorVerifier(argv = process.argv): PasswordVerifier | null {
  if (!argv.includes(AUTH_FROM_SUPERVISOR) || !process.send) return null;
  let next = 0;
  const waiting = new Map<number, (ok: boolean | null) => void>();
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'verified') return;
    const { id, ok } = message as VerifyAnswer;
    waiting.get(id)?.(ok);
    waiting.delete(id);
  });
  process.on('disconnect', () => {
    for (const resolve of waiting.values()) resolve(null);
    waiting.clear();
  });
  return async (password, hash) => {
    if (!process.connected) return verifyPassword(password, hash);
    const id = ++next;
    const ok = await new Promise<boolean | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ANSWER_TIMEOUT_MS);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      const request: VerifyRequest = { type: 'verify', id, password, hash };
      process.send!(request, undefined, undefined, (err) => {
        if (err) waiting.get(id)?.(null);
      });
    });
    waiting.delete(id);
    // No answer (the supervisor went away or is stuck): a login still gets its real check.
    return ok ?? verifyPassword(password, hash);
  };
}

/**
 * In the supervisor: answers the apps' checks. At most as many scrypt hashes at once as the machine
 * has cores: more only share the cores (each taking longer), while in turn the first are answered
 * sooner. A burst of a class's logins is served first come, first served.
 */
export class SharedAuth {
  private readonly cache = new AuthCache();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly parallel = availableParallelism(),
    private readonly check: PasswordVerifier = verifyPassword,
  ) {}

  /** Answers `message` to `child` if it is a VerifyRequest; returns whether it was one. */
  handle(child: ChildProcess, message: { type?: string }): boolean {
    if (message.type !== 'verify') return false;
    const { id, password, hash } = message as VerifyRequest;
    void this.verify(String(password), String(hash)).then((ok) => {
      const answer: VerifyAnswer = { type: 'verified', id, ok };
      if (child.connected) child.send(answer);
    });
    return true;
  }

  /** `verifyPassword` through the cache and the queue; false for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean> {
    return this.cache
      .verify(password, hash, (p, h) => this.queued(() => this.check(p, h)))
      .catch(() => false);
  }

  private async queued<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.parallel) this.running++;
    else await new Promise<void>((resolve) => this.queue.push(resolve)); // handed a running slot
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
