import { createRequire } from 'node:module';
import { fieldValue, paramOf } from './header.js';
import type { MimeEntity } from './structure.js';

/**
 * libmime, with its charset tables (iconv-lite, encoding-japanese), is loaded at the first message
 * that needs it (an encoded word, a body in a charset other than UTF-8), not when the mail app
 * starts: it is 1.7 MB of the idle app's heap (issue #20), and many lab sessions never SEARCH.
 * Its CommonJS build, because the callers are synchronous (SEARCH decodes as it goes).
 */
const require = createRequire(import.meta.url);
let libmime: typeof import('libmime').default | undefined;
let charsets: typeof import('libmime/lib/charset.js') | undefined;
const mime = () => (libmime ??= require('libmime') as typeof import('libmime').default);
const charsetTables = () =>
  (charsets ??= require('libmime/lib/charset.js') as typeof import('libmime/lib/charset.js'));

/**
 * Text as a reader sees it, for SEARCH (RFC 3501 §6.4.4): header values with their encoded words
 * decoded (RFC 2047), bodies with their transfer encoding undone (RFC 2045 §6) and their charset
 * turned into Unicode.
 */
export function decodeHeaderValue(value: string): string {
  // An encoded word starts with `=?` (RFC 2047 §2): without one there is nothing to decode.
  if (!value.includes('=?')) return value;
  try {
    return mime().decodeWords(value);
  } catch {
    return value;
  }
}

/** The content of a part as it was before its transfer encoding (RFC 2045 §6), and its charset. */
export function partContent(bytes: Buffer, entity: MimeEntity): { content: Buffer; charset: string } {
  const raw = bytes.subarray(entity.bodyStart, entity.end);
  const encoding = (fieldValue(entity.header, 'content-transfer-encoding') ?? '').toLowerCase().trim();
  const content =
    encoding === 'base64'
      ? Buffer.from(raw.toString('latin1'), 'base64')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(raw)
        : raw;
  return { content, charset: (paramOf(entity.contentType.params, 'charset') ?? 'utf-8').toLowerCase() };
}

/** True for the charsets whose bytes are UTF-8 (US-ASCII is a part of it). */
export function isUtf8(charset: string): boolean {
  return /^(utf-?8|us-ascii)$/.test(charset);
}

/** Text in any charset as Unicode (libmime's tables for the charsets other than UTF-8). */
export function decodeText(content: Buffer, charset: string): string {
  return isUtf8(charset) ? content.toString('utf8') : charsetTables().decode(content, charset);
}

/** The header of an entity as text, encoded words decoded. */
export function headerText(entity: MimeEntity): string {
  return entity.header.map((f) => `${f.key}: ${decodeHeaderValue(f.value)}`).join('\n');
}

/** RFC 2045 §6.7: `=XX` is a byte, `=` at a line end is a soft break. */
export function decodeQuotedPrintable(raw: Buffer): Buffer {
  const out = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    const a = raw[i + 1];
    const b = raw[i + 2];
    if (a === 0x0d && b === 0x0a) i += 2;
    else if (a === 0x0a) i += 1;
    else if (a !== undefined && b !== undefined && isHex(a) && isHex(b)) {
      out[n++] = Number.parseInt(String.fromCharCode(a, b), 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
