import { type ContentType, contentTypeOf, type HeaderField, paramOf, parseHeader } from './header.js';

/**
 * The MIME structure of a message (RFC 2045, RFC 2046) as byte ranges of its bytes: each entity
 * has a header `[headerStart, bodyStart)` and a body `[bodyStart, end)`. A multipart's parts are
 * found between its boundary lines; a message/rfc822 part holds a whole message, parsed the same
 * way. FETCH BODY[1.2.MIME], BODY[2.TEXT] and partials are then exact slices of the bytes.
 */
export interface MimeEntity {
  headerStart: number;
  bodyStart: number;
  end: number;
  header: HeaderField[];
  contentType: ContentType;
  /** The parts of a multipart (RFC 2046 §5.1). */
  parts?: MimeEntity[];
  /** The message a message/rfc822 part holds (RFC 2046 §5.2.1). */
  message?: MimeEntity;
}

/** Nesting deeper than this is treated as opaque bytes: a hostile message cannot blow the stack. */
const MAX_DEPTH = 20;

export function parseMime(bytes: Buffer): MimeEntity {
  return parseEntity(bytes, 0, bytes.length, false, 0);
}

/** Only the header of a message (ENVELOPE and HEADER fetches need no more). */
export function headerEnd(bytes: Buffer, start = 0, end = bytes.length): number {
  // A header that starts with an empty line is empty: the body starts right after it.
  if (bytes[start] === 0x0a) return start + 1;
  if (bytes[start] === 0x0d && bytes[start + 1] === 0x0a) return start + 2;
  let at = start;
  for (;;) {
    const lf = bytes.indexOf(0x0a, at);
    if (lf === -1 || lf >= end) return end;
    const next = lf + 1;
    if (bytes[next] === 0x0a) return Math.min(next + 1, end);
    if (bytes[next] === 0x0d && bytes[next + 1] === 0x0a) return Math.min(next + 2, end);
    at = next;
  }
}

function parseEntity(
  bytes: Buffer,
  start: number,
  end: number,
  inDigest: boolean,
  depth: number,
): MimeEntity {
  const bodyStart = headerEnd(bytes, start, end);
  const header = parseHeader(bytes, start, bodyStart);
  const contentType = contentTypeOf(header, inDigest);
  const entity: MimeEntity = { headerStart: start, bodyStart, end, header, contentType };
  if (depth >= MAX_DEPTH) return entity;
  const boundary = paramOf(contentType.params, 'boundary');
  if (contentType.type === 'multipart' && boundary) {
    const digest = contentType.subtype === 'digest';
    entity.parts = splitParts(bytes, bodyStart, end, boundary).map(([s, e]) =>
      parseEntity(bytes, s, e, digest, depth + 1),
    );
  } else if (contentType.type === 'message' && contentType.subtype === 'rfc822') {
    entity.message = parseEntity(bytes, bodyStart, end, false, depth + 1);
  }
  return entity;
}

/**
 * RFC 2046 §5.1.1: a part ends where a line `--boundary` starts, and the line break before that
 * line belongs to the boundary, not to the part. `--boundary--` closes the multipart; the
 * preamble before the first boundary and the epilogue after the last are not parts.
 */
function splitParts(bytes: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  const parts: [number, number][] = [];
  let partStart = -1;
  let at = start;
  while (at < end) {
    const found = bytes.indexOf(dash, at);
    if (found === -1 || found + dash.length > end) break;
    at = found + dash.length;
    if (found !== start && bytes[found - 1] !== 0x0a) continue;
    const closing = bytes[at] === 0x2d && bytes[at + 1] === 0x2d;
    // The rest of the boundary line may only be transport padding (spaces, tabs).
    let lineEnd = closing ? at + 2 : at;
    while (bytes[lineEnd] === 0x20 || bytes[lineEnd] === 0x09) lineEnd++;
    if (lineEnd < end && bytes[lineEnd] !== 0x0d && bytes[lineEnd] !== 0x0a) continue;
    if (partStart !== -1) {
      let partEnd = found;
      if (partEnd > partStart && bytes[partEnd - 1] === 0x0a) partEnd--;
      if (partEnd > partStart && bytes[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (closing) return parts;
    const lf = bytes.indexOf(0x0a, lineEnd);
    partStart = lf === -1 || lf >= end ? end : lf + 1;
    at = partStart;
  }
  // No closing boundary: the last part runs to the end (be liberal in what you accept).
  if (partStart !== -1 && partStart < end) parts.push([partStart, end]);
  return parts;
}
