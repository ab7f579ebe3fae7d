import type { LabConfig } from '@portlab/config';
import type { MailStore } from '@portlab/mailstore';
import type { AppRuntime, LoginThrottle } from '@portlab/service';
import type { Relay } from './relay/relay.js';

/** What every protocol of the mail app shares: one store, one throttle for every password, one certificate. */
export interface MailDeps {
  config: LabConfig;
  /** Accounts (runtime.users) and the transcript session of each accepted connection (runtime.sessionOf). */
  runtime: AppRuntime;
  store: MailStore;
  throttle: LoginThrottle;
  tls: { key: string; cert: string };
  /** The outbound queue: mail for the other labs of the class. */
  relay: Relay;
}

/**
 * Connections one service accepts at once; past it, a new client is told to come back later
 * (SMTP 421) or turned away (POP3). Each idle connection costs a file descriptor and a few KB, so a
 * whole class (and the 1,000-connection test) fits well; the process needs a `ulimit -n` above the
 * sum over its services (5 × 2,000 when every service is full).
 */
export const MAX_CLIENTS = 2000;
