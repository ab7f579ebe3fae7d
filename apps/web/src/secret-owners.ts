import type { TranscriptEvent } from '@portlab/transcript';

/**
 * Whose password a credentials line carries: the account of the login try it belongs to. null: no
 * account could be told (a malformed AUTH, a cancelled one, anonymous FTP) — nobody's, so masked for
 * every viewer but the teacher.
 */
export type SecretOwner = string | null;

export interface AttributedEvent {
  event: TranscriptEvent;
  /** Set on credentials lines only. */
  owner?: SecretOwner;
}

/** Sessions waiting for their login event at most; past this, the oldest is given up as nobody's. */
const MAX_WAITING_SESSIONS = 1_000;
/** Events held behind one unresolved credentials line at most (a server answer or two, normally). */
const MAX_HELD_EVENTS = 200;

const isCredentials = (e: TranscriptEvent) => e.type === 'line' && !!e.flags?.includes('credentials');

/**
 * Gives each credentials line its owner, in the order the events were written.
 *
 * The servers write a `login` event (which account, right or wrong) when they check a password, so
 * after the lines that carried it: `PASS x` then login zoe; `a LOGIN zoe x` then login zoe; AUTH LOGIN
 * sends the user name and the password as two base64 lines before the server knows either, then
 * login zoe. So a credentials line is held, with the rest of its session behind it (the order of a
 * conversation is the lesson), until the session says whose it was:
 *  - its `login` event: every held credentials line is that account's;
 *  - a client line that is not credentials, or the session's end: the exchange ended without a
 *    login (malformed, cancelled, anonymous): nobody's.
 * Ambiguity only ever masks more: a line is never given to an account it was not typed for.
 * Holding costs the time the server takes to check the password (and, for AUTH LOGIN typed by
 * hand, until the password line is typed).
 */
export class SecretOwners {
  /** Per session, the events held since its first unresolved credentials line. */
  private readonly held = new Map<string, TranscriptEvent[]>();

  constructor(private readonly release: (e: AttributedEvent) => void) {}

  receive(event: TranscriptEvent): void {
    if (event.type === 'service') {
      // A stopped service cut its connections; its process may have had no time to write them.
      if (event.state !== 'listening') {
        for (const [session, events] of this.held)
          if (events[0]!.service === event.service) this.resolve(session, null);
      }
      this.release({ event });
      return;
    }
    const held = this.held.get(event.session);
    if (!held) {
      if (isCredentials(event)) this.hold(event);
      else this.release({ event });
      return;
    }
    if (event.type === 'login') {
      this.resolve(event.session, event.user);
      this.release({ event });
    } else if (
      event.type === 'close' ||
      (event.type === 'line' && event.dir === 'C' && !isCredentials(event))
    ) {
      this.resolve(event.session, null);
      this.receive(event);
    } else if (held.length >= MAX_HELD_EVENTS) {
      this.resolve(event.session, null);
      this.receive(event);
    } else {
      held.push(event);
    }
  }

  private hold(event: TranscriptEvent & { session: string }): void {
    if (this.held.size >= MAX_WAITING_SESSIONS) {
      // A process killed in the middle of a login closes nothing: give the oldest up.
      this.resolve(this.held.keys().next().value!, null);
    }
    this.held.set(event.session, [event]);
  }

  private resolve(session: string, owner: SecretOwner): void {
    const events = this.held.get(session) ?? [];
    this.held.delete(session);
    for (const event of events) this.release(isCredentials(event) ? { event, owner } : { event });
  }
}
