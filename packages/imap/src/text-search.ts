import { isAscii } from 'node:buffer';
import { decodeText, headerText, isUtf8, partContent } from './mime/decode.js';
import type { MimeEntity } from './mime/structure.js';

/**
 * The string of a SEARCH BODY or TEXT key (RFC 3501 §6.4.4): found when it is a substring of the
 * decoded text, without regard to case. Made once per SEARCH, tried on every message.
 *
 * Most mail is plain ASCII, and a plain ASCII part needs no decoding to be searched: its bytes are
 * its characters. Such a part is searched as it is with a case-insensitive regular expression,
 * rather than decoded to a string, lowercased (a second copy) and searched: SEARCH TEXT goes
 * through every byte of the mailbox, so copies are what it costs. Everything else (8-bit text,
 * other charsets, a needle that is not ASCII) is decoded and lowercased, which is always right.
 */
export class Needle {
  private readonly lower: string;
  /** The lowercased needle as a case-insensitive pattern, when it is ASCII; else null. */
  private readonly asciiPattern: RegExp | null;

  constructor(value: string) {
    this.lower = value.toLowerCase();
    this.asciiPattern = /^[\x00-\x7f]*$/.test(this.lower)
      ? new RegExp(this.lower.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i')
      : null;
  }

  /** In text already decoded (a header). */
  inText(text: string): boolean {
    return text.toLowerCase().includes(this.lower);
  }

  /**
   * In the content of a text part in a charset. ASCII bytes in an ASCII-compatible charset are the
   * same characters decoded, and only ASCII letters change with case there: the pattern on the
   * bytes read as Latin-1 (one byte, one character; no decoding) finds exactly what the decoded,
   * lowercased text would.
   */
  inContent(content: Buffer, charset: string): boolean {
    if (this.asciiPattern && isUtf8(charset) && isAscii(content))
      return this.asciiPattern.test(content.toString('latin1'));
    return this.inText(decodeText(content, charset));
  }
}

/**
 * RFC 3501 §6.4.4: BODY looks in the body of the message, TEXT in its header or body. The body is
 * its text parts (attachments of other types are not text), each decoded, and the header and body
 * of each message it holds (message/rfc822).
 */
export function containsText(bytes: Buffer, root: MimeEntity, needle: Needle, withHeader: boolean): boolean {
  return (withHeader && needle.inText(headerText(root))) || inBody(bytes, root, needle);
}

function inBody(bytes: Buffer, entity: MimeEntity, needle: Needle): boolean {
  if (entity.parts) return entity.parts.some((part) => inBody(bytes, part, needle));
  if (entity.message) return containsText(bytes, entity.message, needle, true);
  if (entity.contentType.type !== 'text') return false;
  const { content, charset } = partContent(bytes, entity);
  return needle.inContent(content, charset);
}
