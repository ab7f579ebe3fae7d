import { accountName, SERVICE_PLAN } from '@portlab/config';
import type { TranscriptEvent } from '@portlab/transcript';

/** One open connection of an account, as the board lists it. */
export interface Connection {
  service: string;
  /** When the connection opened (ISO 8601), or when it logged in if its open was not seen. */
  since: string;
  /** The client's "ip:port". */
  peer: string;
}

/** Whose work an event may have changed: these accounts, every account, or nobody's. */
export type Touched = { accounts: string[] } | 'all';

interface SessionState {
  service: string;
  port: number;
  since: string;
  peer: string;
  /** The account the session logged in as (a `login` event with ok). */
  account: string | null;
  /** SMTP: the accounts named in RCPT TO (RFC 5321 §4.1.1.3): a delivery changes their mailboxes. */
  recipients: Set<string>;
  /** HTTP: the request under way is the class board's own (its page, its data): no lab work. */
  boardRequest: boolean;
}

/** Sessions remembered at most: a process killed with SIGKILL closes nothing. */
const MAX_SESSIONS = 5_000;

/** The services where a client logs in (mail and files): what is done there is done by an account. */
const LOGIN_SERVICES: ReadonlySet<string> = new Set(
  SERVICE_PLAN.filter((s) => s.app === 'mail' || s.app === 'files').map((s) => s.name),
);
const SMTP_SERVICES: ReadonlySet<string> = new Set(
  SERVICE_PLAN.filter((s) => s.protocol === 'SMTP').map((s) => s.name),
);
const RCPT = /^RCPT TO:\s*<([^>]*)>/i;
const WEB_SERVICES: ReadonlySet<string> = new Set(
  SERVICE_PLAN.filter((s) => s.app === 'web').map((s) => s.name),
);
/**
 * The request line (RFC 9112 §3) of the board's own traffic: the teacher's page, its scripts and
 * its data. Loading or polling the board must not make it check everyone again.
 */
const BOARD_REQUEST = /^[A-Z]+ \/(api\/class|lab\/class|lab\/js\/class-|lab\/vendor\/)/;

/**
 * Who is connected now, on which service, read from the transcripts: each `open` starts a session,
 * its `login` event (docs/architecture.md, "Transcripts") says which account it is, its `close`
 * ends it. Also says, for each event, whose work it may have changed, so that the board checks again
 * only those students:
 *  - on mail and files, the account the session logged in as, and on SMTP the recipients too
 *    (a message delivered to e07 changes e07's mailbox); before a login, nobody's (nothing a check
 *    reads is done without one);
 *  - on the web (its requests and answers, but the board's own) and BitTorrent, where nobody logs
 *    in: everybody's (the board then checks everyone, less often).
 */
export class ClassSessions {
  private readonly sessions = new Map<string, SessionState>();

  constructor(private readonly domain: string) {}

  /** Takes one event into account; returns whose work it may have changed. */
  receive(event: TranscriptEvent): Touched {
    if (event.type === 'service') {
      // A stopped service cut its connections; its process may have had no time to write them.
      if (event.state !== 'listening') {
        for (const [id, s] of this.sessions) {
          if (s.service === event.service && s.port === event.port) this.sessions.delete(id);
        }
      }
      return { accounts: [] };
    }
    let state = this.sessions.get(event.session);
    if (!state && event.type !== 'close') {
      state = {
        service: event.service,
        port: event.port,
        since: event.ts,
        peer: event.peer,
        account: null,
        recipients: new Set(),
        boardRequest: false,
      };
      this.sessions.set(event.session, state);
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    if (event.type === 'login' && event.ok && event.user !== null && state) state.account = event.user;
    if (event.type === 'line' && event.dir === 'C' && state && SMTP_SERVICES.has(event.service)) {
      const address = RCPT.exec(event.line)?.[1];
      const account = address === undefined ? null : accountName(address, this.domain);
      if (account !== null) state.recipients.add(account);
    }
    const touched = state ?? this.sessions.get(event.session);
    if (event.type === 'close') this.sessions.delete(event.session);
    if (WEB_SERVICES.has(event.service)) {
      // The web: only what was asked and answered can count (a 404, a HEAD…), not the connection.
      if (event.type !== 'line' || !touched) return { accounts: [] };
      if (event.dir === 'C') touched.boardRequest = BOARD_REQUEST.test(event.line);
      return touched.boardRequest ? { accounts: [] } : 'all';
    }
    if (!LOGIN_SERVICES.has(event.service)) return 'all';
    if (!touched) return { accounts: [] };
    const accounts = new Set(touched.recipients);
    if (touched.account !== null) accounts.add(touched.account);
    return { accounts: [...accounts] };
  }

  /** Forgets a session without telling anyone (one the web app opened itself: see OwnConnections). */
  forget(session: string): void {
    this.sessions.delete(session);
  }

  /** The account's connections open now, oldest first. */
  connectionsOf(account: string): Connection[] {
    const list: Connection[] = [];
    for (const s of this.sessions.values()) {
      if (s.account === account) list.push({ service: s.service, since: s.since, peer: s.peer });
    }
    return list;
  }

  /** The account a session logged in as, if it did and is still open. */
  accountOf(session: string): string | null {
    return this.sessions.get(session)?.account ?? null;
  }
}
