import type { Flag } from '@portlab/transcript';
import { mailboxNameProblem } from '../mailbox-name.js';
import type { Args } from '../parser/args.js';
import type { Session, State } from '../session.js';

/** How a command ends: the tagged response (RFC 3501 §7.1). */
export interface Completion {
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  /** A response code in brackets: `[TRYCREATE]`, `[APPENDUID 38505 3955]`. */
  code?: string;
  /** Transcript flags of the tagged line ('tls' after STARTTLS's OK). */
  flags?: Flag[];
  /** Runs once the tagged line is sent (STARTTLS: the handshake starts after the OK). */
  afterReply?: () => void;
}

export const ok = (text: string, code?: string): Completion => ({
  status: 'OK',
  text,
  ...(code ? { code } : {}),
});
export const no = (text: string, code?: string): Completion => ({
  status: 'NO',
  text,
  ...(code ? { code } : {}),
});
export const bad = (text: string): Completion => ({ status: 'BAD', text });

/** What a command runs with. */
export interface CommandContext {
  tag: string;
  session: Session;
  /** Called through UID (UID FETCH...): numbers are UIDs, not sequence numbers (RFC 3501 §6.4.8). */
  uid: boolean;
}

/**
 * One IMAP command: the states it is valid in (RFC 3501 §6), how it is written, how its
 * arguments are read, and what it does. Each lives in its own file of this folder.
 */
export interface Command<A = unknown> {
  name: string;
  states: readonly State[];
  /** How the command is written, shown when the arguments are wrong. */
  usage: string;
  /** Reads the arguments; throws ImapSyntaxError (-> BAD) when they are wrong. */
  parse(args: Args, context: { uid: boolean }): A;
  run(context: CommandContext, args: A): Promise<Completion> | Completion;
  /** May be called as `UID <name>` (RFC 3501 §6.4.8, RFC 4315 UID EXPUNGE, RFC 6851 UID MOVE). */
  uidForm?: boolean;
  /**
   * Runs by message sequence numbers (FETCH, STORE, SEARCH): RFC 3501 §7.4.1 forbids EXPUNGE
   * responses meanwhile, as they would renumber the messages the client named.
   */
  bySequence?: boolean;
  /**
   * The news the command ends with is what the session knows, without waiting behind other
   * sessions' writes to the folder (NOOP: see MailboxView.sync).
   */
  quickNews?: boolean;
  /** The command line carries a password (LOGIN, AUTHENTICATE): flagged in the transcript. */
  credentials?: boolean;
}

/** Keeps each command file's type checks tight. */
export function command<A>(spec: Command<A>): Command<A> {
  return spec;
}

export const ANY_STATE: readonly State[] = ['not authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: readonly State[] = ['authenticated', 'selected'];
export const SELECTED: readonly State[] = ['selected'];
export const NOT_AUTHENTICATED: readonly State[] = ['not authenticated'];

/** A mailbox name that could lead out of the user's Maildir, or that no folder may have: NO (RFC 3501 §6.3). */
export function refuseName(name: string): Completion | null {
  const problem = mailboxNameProblem(name);
  return problem ? no(problem, 'CANNOT') : null;
}

/** The arguments of a command that names one mailbox and nothing else (DELETE, SUBSCRIBE, …). */
export function oneMailbox(args: Args): string {
  const name = args.astring('mailbox');
  args.end();
  return name;
}
