import type { TranscriptEvent } from '@portlab/transcript';

/** Sessions remembered at most: a process killed with SIGKILL closes none of its own. */
const MAX_SESSIONS = 20_000;

/**
 * Whose session a transcript line belongs to: the account it was logged in as when the line was
 * said. A session changes hands at each `login` event — a right password makes it that account's, a
 * wrong one nobody's (FTP allows USER again after a login) — and is forgotten at its close, as the
 * labs' checks count work (labs/harness transcript-file.ts, `linesOf`).
 *
 * What comes after a login is that account's data (its mail, its files, the subjects it sends): the
 * web app shows it only to that student and the teacher (mask.ts, `visibleTo`). What a session says
 * before logging in is public, as on a shared wire: a greeting, USER zoe, a hand-typed SMTP dialogue
 * on port 25.
 */
export class SessionAccounts {
  private readonly accounts = new Map<string, { service: string; account: string }>();

  /** Takes one event, in session order; returns the account of its session now, if it has one. */
  receive(event: TranscriptEvent): string | undefined {
    if (event.type === 'service') {
      // A stopped service cut its connections; its process may have had no time to write them.
      if (event.state !== 'listening') {
        for (const [session, s] of this.accounts)
          if (s.service === event.service) this.accounts.delete(session);
      }
      return undefined;
    }
    if (event.type === 'login') {
      this.accounts.delete(event.session);
      if (!event.ok || event.user === null) return undefined;
      if (this.accounts.size >= MAX_SESSIONS) this.accounts.delete(this.accounts.keys().next().value!);
      this.accounts.set(event.session, { service: event.service, account: event.user });
      return undefined;
    }
    const account = this.accounts.get(event.session)?.account;
    if (event.type === 'close') this.accounts.delete(event.session);
    return account;
  }
}
