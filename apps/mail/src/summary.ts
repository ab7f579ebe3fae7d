/**
 * A message is summarized in the transcript, never logged whole: its size and its Subject are
 * what a student needs to follow it from SMTP to POP3 or IMAP.
 */
export function summarizeMessage(message: Buffer, what = 'message'): string {
  const subject = headerOf(message, 'subject');
  return `<${what}: ${message.length} octets${subject === undefined ? '' : `, Subject: ${subject}`}>`;
}

/** The value of the first header field of that name, unfolded (RFC 5322 §2.2.3). */
export function headerOf(message: Buffer, name: string): string | undefined {
  const end = message.indexOf('\r\n\r\n');
  const head = message.subarray(0, end === -1 ? Math.min(message.length, 64 * 1024) : end).toString('utf8');
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}
