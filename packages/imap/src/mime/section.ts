import { ImapSyntaxError } from '../parser/tokenizer.js';
import type { HeaderField } from './header.js';
import type { MimeEntity } from './structure.js';

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
 */
export function extractSection(bytes: Buffer, root: MimeEntity, section: Section): Buffer {
  const whole = sectionBytes(bytes, root, section);
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
  return headerFields(bytes, message.header, section.fields, section.specifier === 'HEADER.FIELDS.NOT');
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

/** HEADER.FIELDS: the lines of the named fields as they are, then the empty line that ends a header. */
export function headerFields(bytes: Buffer, header: HeaderField[], names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chosen = header.filter((f) => wanted.has(f.key) !== not);
  return Buffer.concat([...chosen.map((f) => bytes.subarray(f.start, f.end)), Buffer.from('\r\n')]);
}
