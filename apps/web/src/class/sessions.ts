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

/** Whose work an event may have changed: these accounts, or every account (a service the board does not know). */
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
  /** HTTP and the tracker: whose the request under way is (see `requestOwner`), until the next one. */
  requestOwner: string | null;
  /** IMAP and POP3: the command under way may mark messages read (see SETS_SEEN). */
  setsSeen: boolean;
}

/** Sessions remembered at most: a process killed with SIGKILL closes nothing. */
const MAX_SESSIONS = 5_000;
/** Senders remembered per recipient at most (a class is 30; this bounds a mail loop). */
const MAX_SENDERS = 200;

const servicesWhere = (keep: (s: (typeof SERVICE_PLAN)[number]) => boolean): ReadonlySet<string> =>
  new Set(SERVICE_PLAN.filter(keep).map((s) => s.name));
/** SMTP on every port: a message sent (with a login) and delivered (to its recipients). */
const SMTP = servicesWhere((s) => s.protocol === 'SMTP');
/** IMAP and POP3: a mailbox read, its flags changed (\Seen, RFC 9051 §2.3.2). */
const MAILBOX = servicesWhere((s) => s.app === 'mail' && s.protocol !== 'SMTP');
const FILES = servicesWhere((s) => s.app === 'files');
const WEB = servicesWhere((s) => s.app === 'web');
/** BitTorrent between the students' PCs: the server sees it only through the tracker's announces. */
const PEER_WIRE = servicesWhere((s) => s.name === 'peer');
const TRACKER = servicesWhere((s) => s.name === 'tracker');

const RCPT = /^RCPT TO:\s*<([^>]*)>/i;
/**
 * A command that may mark messages \Seen, which lab 2 counts for their senders: IMAP STORE, and
 * FETCH of a body without .PEEK (RFC 9051 §6.4.5, §6.4.6); POP3 marks what was retrieved at QUIT
 * (apps/mail pop3, RFC 1939 §6 "UPDATE state"). Other commands (IDLE, SELECT, LIST…) change nobody
 * else's items: an IDLE-ing class does not make the board check every sender at each EXISTS.
 */
const SETS_SEEN = /^(\S+ (UID )?(STORE\b|FETCH\b.*(BODY\[|RFC822\b))|QUIT\b|RETR\b)/i;
/** A request line (RFC 9112 §3): its target. */
const REQUEST_LINE = /^[A-Z]+ (\S+)/;
/** An announce names its account (`portlab p2p get --user NAME` sends `user=NAME`). */
const ANNOUNCE_USER = /(?:^|[ ?&])user=([^ &]+)/;

/**
 * Who is connected now, on which service, read from the transcripts: each `open` starts a session,
 * its `login` event (docs/architecture.md, "Transcripts") says which account it is, its `close`
 * ends it. Also says, for each event, whose work it may have changed, so that the board checks again
 * only those students — the accounts the labs' checks count the same work for:
 *  - FTP: the account the session logged in as; before a login, nobody's;
 *  - SMTP: the account that logged in to send, and the recipients (a delivery changes their
 *    mailboxes); IMAP and POP3: the account, and while a command may mark messages read, everyone
 *    who sent it mail (lab 2's "its recipient has read it" is the sender's item);
 *  - HTTP: the account whose page the request asks for (/~e07/…: lab 4 counts it for e07); any other
 *    path (the dashboards, this board), nobody's;
 *  - on every service, a right password's `login`: that account's (lab 4 counts the requests of the
 *    PCs a student logged in from);
 *  - the tracker: the account an announce names (`user=`); the peer wire, nobody's;
 *  - a service the board does not know: everybody's (the board then checks everyone, less often).
 */
export class ClassSessions {
  private readonly sessions = new Map<string, SessionState>();
  /** Recipient -> the accounts that sent them mail with a login. */
  private readonly senders = new Map<string, Set<string>>();

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
    const state = this.sessions.get(event.session) ?? this.track(event);
    if (event.type === 'close') this.sessions.delete(event.session);
    if (event.type === 'login' && event.ok && event.user !== null) state.account = event.user;
    const { service } = event;
    const accounts = new Set<string>();
    if (SMTP.has(service)) {
      if (event.type === 'line' && event.dir === 'C') this.recipient(state, event.line);
      for (const r of state.recipients) accounts.add(r);
      if (state.account !== null) accounts.add(state.account);
    } else if (MAILBOX.has(service)) {
      // Until the next command: the flags are written before the answer, the answer after.
      if (event.type === 'line' && event.dir === 'C') state.setsSeen = SETS_SEEN.test(event.line);
      if (state.account !== null) {
        accounts.add(state.account);
        if (state.setsSeen) for (const s of this.senders.get(state.account) ?? []) accounts.add(s);
      }
    } else if (FILES.has(service)) {
      if (state.account !== null) accounts.add(state.account);
    } else if (WEB.has(service) || TRACKER.has(service)) {
      // A request and its answer are one exchange: the answer counts for the request's owner.
      if (event.type === 'line' && event.dir === 'C')
        state.requestOwner = this.requestOwner(service, event.line);
      if (event.type === 'line' && state.requestOwner !== null) accounts.add(state.requestOwner);
    } else if (!PEER_WIRE.has(service)) {
      return 'all';
    }
    // A login proves the PC it came from is the student's: lab 4 counts that PC's requests for their
    // pages (labs/harness 04-web.ts), so a sign-in on the web app changes their items too.
    if (event.type === 'login' && event.ok && event.user !== null) accounts.add(event.user);
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

  private track(event: Exclude<TranscriptEvent, { type: 'service' }>): SessionState {
    const state: SessionState = {
      service: event.service,
      port: event.port,
      since: event.ts,
      peer: event.peer,
      account: null,
      recipients: new Set(),
      requestOwner: null,
      setsSeen: false,
    };
    if (event.type === 'close') return state; // its open was not seen: nothing to keep
    this.sessions.set(event.session, state);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return state;
  }

  /** RCPT TO:<e07@lab.test> in a session logged in as e01: e07 now has mail from e01. */
  private recipient(state: SessionState, line: string): void {
    const address = RCPT.exec(line)?.[1];
    const to = address === undefined ? null : accountName(address, this.domain);
    if (to === null) return;
    state.recipients.add(to);
    if (state.account === null) return;
    const from = this.senders.get(to) ?? new Set<string>();
    if (from.size < MAX_SENDERS) from.add(state.account);
    this.senders.set(to, from);
  }

  /** Whose an HTTP request is (the /~user/ page it asks for), or an announce (its `user=`). */
  private requestOwner(service: string, line: string): string | null {
    if (TRACKER.has(service)) {
      const user = ANNOUNCE_USER.exec(line)?.[1];
      return user === undefined ? null : accountName(user);
    }
    let target = REQUEST_LINE.exec(line)?.[1];
    if (target === undefined) return null;
    try {
      // %7E is ~ too (RFC 3986 §2.3).
      target = decodeURIComponent(target.split('?')[0]!);
    } catch {
      return null;
    }
    const user = /^\/~([^/]+)(\/|$)/.exec(target)?.[1];
    return user === undefined ? null : accountName(user);
  }
}
