/**
 * A message as POP3 sends it (RFC 1939 §3): CRLF line ends, every line starting with "." given an
 * extra "." (byte-stuffing, undone by the client), and a line holding only "." at the end.
 */
export function multilineBody(message: Buffer): Buffer {
  const crlf = message.toString('binary').replace(/\r?\n/g, '\r\n');
  const stuffed = crlf.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(`${stuffed}${stuffed === '' || stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'binary');
}

/** TOP (RFC 1939 §7): the header, the blank line, then the first `lines` lines of the body. */
export function topOf(message: Buffer, lines: number): Buffer {
  const text = message.toString('binary');
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return message;
  const bodyStart = match.index + match[0].length;
  const bodyLines = text
    .slice(bodyStart)
    .split(/(?<=\n)/)
    .slice(0, lines);
  return Buffer.from(text.slice(0, bodyStart) + bodyLines.join(''), 'binary');
}
