import { list, type Part, str } from '../response.js';
import { envelope } from './envelope.js';
import { fieldValue, parseParams } from './header.js';
import type { MimeEntity } from './structure.js';

/**
 * BODYSTRUCTURE (and BODY, its form without extension data), RFC 3501 §7.4.2, from the MIME
 * structure of the message's bytes: for a multipart, its parts then its subtype; for a single
 * part, type, subtype, parameters, id, description, encoding, size, and lines for text.
 */
export function bodyStructure(bytes: Buffer, entity: MimeEntity, extensible: boolean): Part[] {
  const { contentType, header } = entity;
  if (entity.parts && entity.parts.length > 0) {
    const items: Part[][] = entity.parts.map((p) => bodyStructure(bytes, p, extensible));
    // The parts come one after the other without spaces between them (RFC 3501 §9, body-type-mpart).
    const out: Part[] = ['(', ...items.flat(), ' ', str(contentType.subtype.toUpperCase())];
    if (extensible) out.push(' ', ...params(contentType.params), ' ', ...extension(entity));
    out.push(')');
    return out;
  }
  const size = entity.end - entity.bodyStart;
  const fields: Part[][] = [
    [str(contentType.type.toUpperCase())],
    [str(contentType.subtype.toUpperCase())],
    params(contentType.params),
    [str(fieldValue(header, 'content-id') ?? null)],
    [str(fieldValue(header, 'content-description') ?? null)],
    [str((fieldValue(header, 'content-transfer-encoding') ?? '7BIT').toUpperCase())],
    [String(size)],
  ];
  if (entity.message) {
    fields.push(envelope(entity.message.header), bodyStructure(bytes, entity.message, extensible), [
      String(lineCount(bytes, entity)),
    ]);
  } else if (contentType.type === 'text') {
    fields.push([String(lineCount(bytes, entity))]);
  }
  if (extensible) fields.push([str(fieldValue(header, 'content-md5') ?? null)], extension(entity));
  return list(fields);
}

/** Disposition, language and location: the extension data every body part may have. */
function extension(entity: MimeEntity): Part[] {
  const disposition = fieldValue(entity.header, 'content-disposition');
  const parsed = disposition ? parseParams(disposition) : null;
  const language = fieldValue(entity.header, 'content-language');
  return [
    ...(parsed?.value ? list([[str(parsed.value.toUpperCase())], params(parsed.params)]) : ['NIL']),
    ' ',
    language ? str(language) : 'NIL',
    ' ',
    str(fieldValue(entity.header, 'content-location') ?? null),
  ];
}

function params(pairs: [string, string][]): Part[] {
  if (pairs.length === 0) return ['NIL'];
  return list(pairs.flatMap(([k, v]) => [[str(k.toUpperCase())], [str(v)]]));
}

function lineCount(bytes: Buffer, entity: MimeEntity): number {
  let lines = 0;
  for (
    let at = bytes.indexOf(0x0a, entity.bodyStart);
    at !== -1 && at < entity.end;
    at = bytes.indexOf(0x0a, at + 1)
  )
    lines++;
  return lines;
}
