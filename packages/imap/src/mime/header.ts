/**
 * A message or MIME part header (RFC 5322 §2.2): fields of `Name: value`, a line starting with a
 * space or tab going on from the one before (folding). Each field keeps its exact byte range, so
 * BODY[HEADER.FIELDS (...)] returns the bytes the message holds, not a re-encoding.
 */
export interface HeaderField {
  /** Lower case, for lookups. */
  key: string;
  /** The field's bytes, from its name to its line end included. */
  start: number;
  end: number;
  /** The value unfolded (line breaks removed), undecoded. */
  value: string;
}

/** Parses the header in `bytes[start, end)` (the end is where the body starts). */
export function parseHeader(bytes: Buffer, start: number, end: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let at = start;
  while (at < end) {
    let lineEnd = bytes.indexOf(0x0a, at);
    lineEnd = lineEnd === -1 || lineEnd >= end ? end : lineEnd + 1;
    const first = bytes[at];
    const continues = first === 0x20 || first === 0x09;
    if (continues && fields.length) {
      fields[fields.length - 1]!.end = lineEnd;
    } else if (first !== 0x0d && first !== 0x0a) {
      fields.push({ key: '', start: at, end: lineEnd, value: '' });
    }
    at = lineEnd;
  }
  for (const field of fields) {
    const text = bytes.toString('utf8', field.start, field.end);
    const colon = text.indexOf(':');
    field.key = (colon === -1 ? text : text.slice(0, colon)).trim().toLowerCase();
    field.value =
      colon === -1
        ? ''
        : text
            .slice(colon + 1)
            .replace(/\r?\n/g, '')
            .trim();
  }
  return fields.filter((f) => f.key !== '');
}

/** The first value of a field, or undefined. */
export function fieldValue(fields: HeaderField[], key: string): string | undefined {
  return fields.find((f) => f.key === key)?.value;
}

export interface ContentType {
  type: string;
  subtype: string;
  params: [string, string][];
}

/**
 * A Content-Type or Content-Disposition value: `text/plain; charset="utf-8"` (RFC 2045 §5.1).
 * Without a Content-Type a part is text/plain; charset=us-ascii (RFC 2045 §5.2), or
 * message/rfc822 inside a multipart/digest (RFC 2046 §5.1.5).
 */
export function parseParams(value: string): { value: string; params: [string, string][] } {
  const [head = '', ...rest] = splitOutsideQuotes(value, ';');
  const params: [string, string][] = [];
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (name) params.push([name, v]);
  }
  return { value: head.trim().replace(/\s*\(.*\)\s*$/, ''), params };
}

export function contentTypeOf(fields: HeaderField[], inDigest: boolean): ContentType {
  const raw = fieldValue(fields, 'content-type');
  const { value, params } = parseParams(raw ?? '');
  const [type, subtype] = value
    .toLowerCase()
    .split('/')
    .map((s) => s.trim());
  if (!type || !subtype) {
    return inDigest
      ? { type: 'message', subtype: 'rfc822', params: [] }
      : { type: 'text', subtype: 'plain', params: raw ? params : [['charset', 'us-ascii']] };
  }
  return { type, subtype, params };
}

export function paramOf(params: [string, string][], name: string): string | undefined {
  return params.find(([k]) => k === name)?.[1];
}

/** Splits on `separator` where it is not inside a "quoted string". */
export function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && quoted) {
      current += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}
