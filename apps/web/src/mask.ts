import type { LineData, LineEvent, TranscriptEvent } from '@portlab/transcript';
import type { SecretOwner } from './secret-owners.js';
import { mayBrowse, mayReadSecretsOf, type Viewer } from './viewer.js';

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

/**
 * The command words of the protocols the lab serves, kept in front of a masked line so that another
 * student still sees the shape of a conversation (LIST, RETR, a FETCH) and nothing of its content.
 * SMTP (RFC 5321 §4.1, RFC 4954, RFC 3030), POP3 (RFC 1939, RFC 2449), IMAP (RFC 3501 §6 and the
 * extensions the server announces), FTP (RFC 959 §4.1, RFC 2228, RFC 2428, RFC 3659), HTTP methods
 * (RFC 9110 §9).
 */
const VERBS = new Set(
  [
    'HELO EHLO MAIL RCPT DATA BDAT RSET VRFY EXPN HELP NOOP QUIT STARTTLS AUTH',
    'USER PASS APOP STAT LIST RETR DELE TOP UIDL CAPA STLS',
    'CAPABILITY LOGOUT AUTHENTICATE LOGIN SELECT EXAMINE CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE',
    'LSUB STATUS APPEND CHECK CLOSE EXPUNGE SEARCH FETCH STORE COPY MOVE UID IDLE DONE NAMESPACE ID',
    'ENABLE UNSELECT GETQUOTA GETQUOTAROOT',
    'ACCT CWD CDUP REIN PORT PASV EPSV EPRT TYPE STRU MODE STOR STOU APPE ALLO REST RNFR RNTO ABOR',
    'RMD MKD PWD NLST SITE SYST FEAT OPTS SIZE MDTM MLSD MLST PBSZ PROT CCC XPWD XMKD XRMD XCWD',
    'GET HEAD POST PUT OPTIONS PATCH',
  ]
    .join(' ')
    .split(' '),
);

/** IMAP's response words (RFC 3501 §7): `* 3 FETCH`, `* OK`, `a1 NO`. */
const RESPONSES =
  'OK|NO|BAD|BYE|PREAUTH|CAPABILITY|LIST|LSUB|STATUS|SEARCH|FLAGS|EXISTS|RECENT|EXPUNGE|FETCH|ENABLED|ID|NAMESPACE|QUOTA|QUOTAROOT';

/** What a server line keeps: a reply code (SMTP, FTP, HTTP), POP3's status, IMAP's response word. */
const REPLY = new RegExp(
  `^(?:\\d{3}(?:-|(?= |$))|HTTP/\\d(?:\\.\\d)? \\d{3}|[+-](?:OK|ERR)\\b|\\+(?= |$)|\\* (?:\\d+ )?(?:${RESPONSES})\\b|[A-Za-z0-9.]{1,20} (?:OK|NO|BAD)\\b)`,
  'i',
);

/**
 * A line of another account's session, as the class sees it: its command word or reply code, the rest
 * masked. `a3 FETCH ••••••`, `RCPT ••••••`, `* 2 FETCH ••••••`, `250 ••••••`; a line of no known
 * shape (a message's summary, a literal) is masked whole.
 */
export function maskContent(dir: 'C' | 'S', line: string): string {
  let kept: string | undefined;
  if (dir === 'S') kept = REPLY.exec(line)?.[0];
  else {
    const words = line.split(' ');
    // An IMAP command starts with its tag (RFC 3501 §2.2.1), and UID names the command after it.
    let n = VERBS.has(words[0]!.toUpperCase())
      ? 1
      : words.length > 1 && VERBS.has(words[1]!.toUpperCase())
        ? 2
        : 0;
    if (n > 0 && words[n - 1]!.toUpperCase() === 'UID' && words[n] && VERBS.has(words[n]!.toUpperCase())) n++;
    if (n > 0) kept = words.slice(0, n).join(' ');
  }
  if (kept === undefined) return MASK;
  return kept.length === line.length ? line : `${kept}${kept.endsWith('-') ? '' : ' '}${MASK}`;
}

/** The `data` of a masked line: its numbers and kinds (the chart's timings), never a name or text. */
function maskData(data: LineData): LineData {
  const kept: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string' || key === 'event' || key === 'verb' || key === 'agent') kept[key] = value;
  }
  return kept;
}

/**
 * A transcript event as one viewer may see it. `masked`: a password not theirs was replaced;
 * `private`: the line was said in another account's session and only its shape is left.
 */
export type VisibleEvent = TranscriptEvent | (LineEvent & { masked?: true; private?: true });

/**
 * The event as `viewer` may see it, with `owner` the SecretOwners attribution of a credentials line
 * and `account` the SessionAccounts one of any line (the account its session was logged in as):
 *  - a line of another account's session: its command word or reply code only (maskContent), so that
 *    nothing of one student's mail, files or messages reaches another;
 *  - a credentials line whose secret is not theirs: masked (the page then offers no decoding);
 *  - every other event as it is.
 */
export function visibleTo(
  viewer: Viewer,
  event: TranscriptEvent,
  owner?: SecretOwner,
  account?: string,
): VisibleEvent {
  if (event.type !== 'line') return event;
  const credentials = event.flags?.includes('credentials') ?? false;
  if (account !== undefined && !mayBrowse(viewer, account)) {
    const { data, ...rest } = event;
    return {
      ...rest,
      line: credentials ? maskSecret(event.line) : maskContent(event.dir, event.line),
      ...(data ? { data: maskData(data) } : {}),
      ...(credentials ? { masked: true as const } : {}),
      private: true,
    };
  }
  if (!credentials || mayReadSecretsOf(viewer, owner ?? null)) return event;
  return { ...event, line: maskSecret(event.line), masked: true };
}
