import type { LineEvent, TranscriptEvent } from '@portlab/transcript';
import type { SecretOwner } from './secret-owners.js';
import { mayReadSecretsOf, type Viewer } from './viewer.js';

/** What a viewer sees in place of a secret: visibly something, nothing of it (not even its length). */
export const MASK = '••••••';

/**
 * SASL mechanisms (IANA registry) a client may name: only a word of these is kept in front of a mask,
 * so that a password typed where a mechanism goes is never shown as one.
 */
const MECHANISM =
  '(?:PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|SCRAM-SHA-1|SCRAM-SHA-256|XOAUTH2|OAUTHBEARER|EXTERNAL|ANONYMOUS|NTLM|GSSAPI)';

/** The command words kept in front of the mask, so the lesson stays: a password was sent here. */
const SHAPES: readonly RegExp[] = [
  // IMAP LOGIN (RFC 3501 §6.2.3): the tag, LOGIN and the user name (an atom or a quoted string).
  /^(\S+ LOGIN (?:"(?:[^"\\]|\\.)*"|[^\s"{]+) )\S/i,
  // IMAP LOGIN with a literal, or anything else after LOGIN: the tag and LOGIN.
  /^(\S+ LOGIN )\S/i,
  // IMAP AUTHENTICATE PLAIN <initial response> (RFC 4959): the tag, verb and mechanism.
  new RegExp(`^(\\S+ AUTHENTICATE ${MECHANISM} )\\S`, 'i'),
  // SMTP AUTH (RFC 4954) and POP3 AUTH (RFC 5034) with an initial response: verb and mechanism.
  new RegExp(`^(AUTH ${MECHANISM} )\\S`, 'i'),
  // FTP and POP3 PASS (RFC 959 §4.1.1, RFC 1939 §7).
  /^(PASS )\S/i,
];

/** Lines that name a mechanism and carry no secret yet (`AUTH LOGIN`, `a AUTHENTICATE PLAIN`). */
const NO_SECRET = new RegExp(`^(?:\\S+ AUTHENTICATE|AUTH) ${MECHANISM}$|^PASS$`, 'i');

/**
 * A credentials line with its secret replaced by MASK: `PASS ••••••`, `a LOGIN zoe ••••••`,
 * `AUTH PLAIN ••••••` (its base64 holds the password too). A line of another shape (the base64
 * lines of an AUTH LOGIN exchange, an IMAP literal) is masked whole.
 */
export function maskSecret(line: string): string {
  if (NO_SECRET.test(line)) return line;
  for (const shape of SHAPES) {
    const kept = shape.exec(line)?.[1];
    if (kept !== undefined) return `${kept}${MASK}`;
  }
  return MASK;
}

/** A transcript event as one viewer may see it, with `owner` the SecretOwners attribution. */
export type VisibleEvent = TranscriptEvent | (LineEvent & { masked: true });

/**
 * The event as `viewer` may see it: a credentials line whose secret is not theirs comes masked, and
 * marked `masked: true` (the page then offers no decoding); every other event as it is.
 */
export function visibleTo(viewer: Viewer, event: TranscriptEvent, owner?: SecretOwner): VisibleEvent {
  if (event.type !== 'line' || !event.flags?.includes('credentials')) return event;
  if (mayReadSecretsOf(viewer, owner ?? null)) return event;
  return { ...event, line: maskSecret(event.line), masked: true };
}
