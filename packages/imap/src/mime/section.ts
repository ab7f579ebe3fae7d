import { ImapSyntaxError } from '../parser/tokenizer.js';
import { headerEnd, type MimeEntity } from './structure.js';

/**
 * A body section of FETCH (RFC 3501 §6.4.5): `BODY[1.2.HEADER.FIELDS (From To)]<0.100>` is the
 * part path [1, 2], the specifier HEADER.FIELDS with its field names, and a partial range.
 */
export interface Section {
  path: number[];
  specifier: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  fields: string[];
  partial?: { start: number; length: number };
}

/** Parses what is between the brackets, and the `<start.length>` after them. */
export function parseSection(inside: string, partial: string | undefined): Section {
  const match =
    /^((?:\d+\.)*\d+)?\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?\s*(?:\((.*)\))?$/i.exec(
      inside.trim(),
    );
  if (!match)
    throw new ImapSyntaxError(
      `[${inside}] is not a body section: use e.g. [], [HEADER], [1.2], [2.TEXT], [HEADER.FIELDS (Subject)]`,
    );
  const path = match[1] ? match[1].split('.').map(Number) : [];
  if (path.some((n) => n === 0)) throw new ImapSyntaxError('body part numbers start at 1');
  const specifier = (match[2]?.toUpperCase() ?? '') as Section['specifier'];
  if (specifier === 'MIME' && path.length === 0)
    throw new ImapSyntaxError('MIME needs a part number: [1.MIME]');
  const fields = match[3]
    ? match[3]
        .trim()
        .split(/\s+/)
        .map((f) => f.replace(/^"|"$/g, ''))
    : [];
  if (specifier.startsWith('HEADER.FIELDS') !== (match[3] !== undefined))
    throw new ImapSyntaxError(
      'HEADER.FIELDS and HEADER.FIELDS.NOT take a list of field names: [HEADER.FIELDS (From Subject)]',
    );
  const section: Section = { path, specifier, fields };
  if (partial !== undefined) {
    const p = /^<(\d+)\.(\d+)>$/.exec(partial);
    if (!p || Number(p[2]) === 0)
      throw new ImapSyntaxError(`${partial} is not a partial range: use <start.length>, e.g. <0.1024>`);
    section.partial = { start: Number(p[1]), length: Number(p[2]) };
  }
  return section;
}

/** How the section is named in the response: BODY[HEADER.FIELDS (FROM TO)]<0> (RFC 3501 §7.4.2). */
export function sectionName(section: Section): string {
  const parts = [section.path.join('.'), section.specifier].filter((s) => s !== '');
  let name = parts.join('.');
  if (section.fields.length) name += ` (${section.fields.map((f) => f.toUpperCase()).join(' ')})`;
  return `[${name}]${section.partial ? `<${section.partial.start}>` : ''}`;
}

/** True if the section needs only the message header (then the body is not read). */
export function headerOnly(section: Section): boolean {
  return section.path.length === 0 && section.specifier.startsWith('HEADER');
}

/**
 * The bytes of a section, or an empty buffer for a part that does not exist (RFC 3501 leaves
 * this to the server; empty is what Dovecot answers). The partial range applies last.
 * `root` may be given as a function, called only if the section needs the MIME structure: the
 * HEADER.FIELDS of the message itself (what a mail client's first sync asks of every message)
 * are found in the bytes directly.
 */
export function extractSection(
  bytes: Buffer,
  root: MimeEntity | (() => MimeEntity),
  section: Section,
): Buffer {
  // BODY[] (the whole message, what a client downloading mail asks): no structure to find.
  if (section.path.length === 0 && section.specifier === '') return partialOf(bytes, section);
  const whole = messageFieldsOnly(section)
    ? messageHeaderFields(bytes, section)
    : sectionBytes(bytes, typeof root === 'function' ? root() : root, section);
  return partialOf(whole, section);
}

/** True for HEADER.FIELDS (.NOT) of the message itself: the same bytes for every FETCH that asks. */
export function messageFieldsOnly(section: Section): boolean {
  return section.path.length === 0 && section.specifier.startsWith('HEADER.FIELDS');
}

/** HEADER.FIELDS (.NOT) of the message itself, from its bytes (or its header alone). */
export function messageHeaderFields(bytes: Buffer, section: Section): Buffer {
  return headerFields(bytes, 0, headerEnd(bytes), section);
}

/** `<start.length>`: the octets asked of a section, fewer if it ends first (RFC 3501 §6.4.5). */
export function partialOf(whole: Buffer, section: Section): Buffer {
  if (!section.partial) return whole;
  const { start, length } = section.partial;
  return whole.subarray(Math.min(start, whole.length), Math.min(start + length, whole.length));
}

function sectionBytes(bytes: Buffer, root: MimeEntity, section: Section): Buffer {
  const entity = partAt(root, section.path);
  if (!entity) return Buffer.alloc(0);
  if (section.specifier === 'MIME') return bytes.subarray(entity.headerStart, entity.bodyStart);
  if (section.specifier === '') {
    return section.path.length === 0 ? bytes : bytes.subarray(entity.bodyStart, entity.end);
  }
  // HEADER and TEXT of a part number name the message a message/rfc822 part holds.
  const message = section.path.length === 0 ? entity : entity.message;
  if (!message) return Buffer.alloc(0);
  if (section.specifier === 'TEXT') return bytes.subarray(message.bodyStart, message.end);
  if (section.specifier === 'HEADER') return bytes.subarray(message.headerStart, message.bodyStart);
  return headerFields(bytes, message.headerStart, message.bodyStart, section);
}

/** Part numbers (RFC 3501 §6.4.5): the parts of a multipart, 1 for a single-part body, deeper through message/rfc822. */
export function partAt(root: MimeEntity, path: number[]): MimeEntity | undefined {
  let entity: MimeEntity | undefined = root;
  for (const [i, n] of path.entries()) {
    if (!entity) return undefined;
    if (i > 0 && entity.message) entity = entity.message;
    if (entity.parts) entity = entity.parts[n - 1];
    else if (n !== 1) return undefined;
  }
  return entity;
}

/**
 * The lower-case field names of a section as bytes, made once per FETCH rather than once per
 * message; null if one of them is not ASCII (those are compared as text).
 */
const fieldNames = new WeakMap<Section, Buffer[] | null>();
function fieldNamesOf(section: Section): Buffer[] | null {
  if (!fieldNames.has(section)) {
    const names = section.fields.map((n) => n.toLowerCase());
    fieldNames.set(
      section,
      names.every((n) => /^[\x00-\x7f]*$/.test(n)) ? names.map((n) => Buffer.from(n, 'latin1')) : null,
    );
  }
  return fieldNames.get(section)!;
}

/** ASCII white space as String.prototype.trim sees it: TAB, LF, VT, FF, CR, space. */
const isSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/**
 * True if the field name in `bytes[start, end)` (white space around it ignored) is one of `names`,
 * compared without case. Undefined if the name is not ASCII: then the caller compares it as text.
 */
function asciiNameIn(bytes: Buffer, start: number, end: number, names: Buffer[]): boolean | undefined {
  let a = start;
  let b = end;
  while (a < b && isSpace(bytes[a]!)) a++;
  while (b > a && isSpace(bytes[b - 1]!)) b--;
  if (a === b) return undefined;
  next: for (const name of names) {
    if (name.length !== b - a) continue;
    for (let i = 0; i < name.length; i++) {
      let byte = bytes[a + i]!;
      if (byte >= 0x80) return undefined;
      if (byte >= 0x41 && byte <= 0x5a) byte |= 0x20;
      if (byte !== name[i]) continue next;
    }
    return true;
  }
  for (let i = a; i < b; i++) if (bytes[i]! >= 0x80) return undefined;
  return false;
}

/**
 * HEADER.FIELDS (.NOT): the named fields of the header in `bytes[start, end)` exactly as they are
 * (folded lines too), then the empty line that ends a header. A field is its first line and the
 * lines after it that start with a space or tab (RFC 5322 §2.2.3); its name is what comes before
 * the colon, compared as parseHeader reads it (trimmed, without case). A mail client's first sync
 * asks this of every message, so plain ASCII names are compared as bytes, with no string made.
 */
export function headerFields(bytes: Buffer, start: number, end: number, section: Section): Buffer {
  const names = fieldNamesOf(section);
  const not = section.specifier === 'HEADER.FIELDS.NOT';
  const chosen: Buffer[] = [];
  let field = -1;
  const close = (fieldEnd: number) => {
    if (field === -1) return;
    const colon = bytes.indexOf(0x3a, field);
    const nameEnd = colon === -1 || colon >= fieldEnd ? fieldEnd : colon;
    let named = names ? asciiNameIn(bytes, field, nameEnd, names) : undefined;
    if (named === undefined) {
      const key = bytes.toString('utf8', field, nameEnd).trim().toLowerCase();
      named = key === '' ? undefined : section.fields.some((f) => f.toLowerCase() === key);
    }
    if (named !== undefined && named !== not) chosen.push(bytes.subarray(field, fieldEnd));
    field = -1;
  };
  let at = start;
  while (at < end) {
    const lf = bytes.indexOf(0x0a, at);
    const lineEnd = lf === -1 || lf >= end ? end : lf + 1;
    const first = bytes[at];
    const continues = (first === 0x20 || first === 0x09) && field !== -1;
    if (!continues) {
      close(at);
      if (first !== 0x0d && first !== 0x0a) field = at;
    }
    at = lineEnd;
  }
  close(end);
  chosen.push(Buffer.from('\r\n'));
  return Buffer.concat(chosen);
}
