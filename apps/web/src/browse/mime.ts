/**
 * Just enough MIME to show a message as text: its headers, and its first text/plain part decoded.
 * HTML parts are never rendered (a message is untrusted input; the raw source is there to look at).
 * RFC 5322 (message format), RFC 2045 (Content-Type, Content-Transfer-Encoding), RFC 2046
 * (multipart), RFC 2047 (encoded words in headers). The decoding itself is libmime's and libqp's
 * (nodemailer's MIME libraries, also used by the IMAP server): only the walk through the parts is here.
 */
import { createRequire } from 'node:module';
import type Libmime from 'libmime';
import type Libqp from 'libqp';

/**
 * libmime and libqp (about 2.5 MB of heap), required at the first message shown, not at start: an
 * idle web server never decodes a message (issue #20, idle memory). Their CommonJS builds, so that
 * the parsing stays synchronous.
 */
const require = createRequire(import.meta.url);
let libs: { libmime: typeof Libmime; libqp: typeof Libqp } | undefined;
function mimeLibs(): { libmime: typeof Libmime; libqp: typeof Libqp } {
  libs ??= { libmime: require('libmime') as typeof Libmime, libqp: require('libqp') as typeof Libqp };
  return libs;
}

export interface Header {
  name: string;
  value: string;
}

export interface ParsedMessage {
  headers: Header[];
  /** The first text/plain part, decoded; null when the message has none. */
  text: string | null;
}

/** Decodes bytes in a named charset; an unknown charset falls back to UTF-8 rather than failing. */
export function decodeCharset(bytes: Buffer, charset = 'utf-8'): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** RFC 5322 §2.2.3: a header line that starts with white space continues the one before. */
export function parseHeaders(block: string): Header[] {
  const headers: Header[] = [];
  for (const line of block.split(/\r?\n/)) {
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers.map((h) => ({ name: h.name, value: decodeEncodedWords(h.value) }));
}

/** RFC 2047 §4: `=?charset?B?base64?=` and `=?charset?Q?quoted?=`; spaces between two words vanish. */
export function decodeEncodedWords(value: string): string {
  try {
    return mimeLibs().libmime.decodeWords(value);
  } catch {
    return value; // a malformed encoded word is shown as it was written
  }
}

/** `text/plain; charset="utf-8"` -> type and lower-cased parameters (RFC 2045 §5.1). */
function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const { value: type, params } = mimeLibs().libmime.parseHeaderValue(value ?? 'text/plain');
  return { type: type.toLowerCase() || 'text/plain', params };
}

function header(headers: Header[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name)?.value;
}

function splitEntity(raw: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  return match
    ? { head: raw.slice(0, match.index), body: raw.slice(match.index + match[0].length) }
    : { head: raw, body: '' };
}

/**
 * The first text/plain part of an entity, decoded, searching multiparts depth first. `raw` holds the
 * message as latin1 (one char per byte), so that the charset decoding happens once, on real bytes.
 */
function firstTextPart(raw: string, depth = 0): string | null {
  const { head, body } = splitEntity(raw);
  const headers = parseHeaders(head);
  const { type, params } = contentType(header(headers, 'content-type'));
  if (type.startsWith('multipart/') && params.boundary && depth < 10) {
    // RFC 2046 §5.1.1: parts sit between "--boundary" lines; "--boundary--" ends the last one.
    const parts = body.split(new RegExp(`\\r?\\n?--${escapeRegExp(params.boundary)}(?:--)?[ \\t]*\\r?\\n?`));
    for (const part of parts.slice(1, -1)) {
      const text = firstTextPart(part, depth + 1);
      if (text !== null) return text;
    }
    return null;
  }
  if (type !== 'text/plain') return null;
  const encoding = header(headers, 'content-transfer-encoding')?.toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body, 'base64')
      : encoding === 'quoted-printable'
        ? mimeLibs().libqp.decode(body)
        : Buffer.from(body, 'latin1');
  return decodeCharset(bytes, params.charset);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function parseMessage(bytes: Buffer): ParsedMessage {
  const raw = bytes.toString('latin1');
  const { head } = splitEntity(raw);
  // Headers are 7-bit by RFC 5322 but often carry raw UTF-8 (RFC 6532): decode them as UTF-8.
  const headers = parseHeaders(decodeCharset(Buffer.from(head, 'latin1')));
  return { headers, text: firstTextPart(raw) };
}
