import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeader } from '../src/mime/header.js';
import { extractSection, parseSection } from '../src/mime/section.js';
import { headerEnd, parseMime } from '../src/mime/structure.js';

/** HEADER.FIELDS the long way: parse every field, keep those named (what FETCH did before). */
function byParsing(bytes: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const fields = parseHeader(bytes, 0, headerEnd(bytes)).filter((f) => wanted.has(f.key) !== not);
  return Buffer.concat([...fields.map((f) => bytes.subarray(f.start, f.end)), Buffer.from('\r\n')]);
}

const NAMES = ['From', 'to', 'SUBJECT', 'Date', 'Message-ID', 'X-Ünïcode', ''];
const line = fc.oneof(
  fc
    .tuple(fc.constantFrom(...NAMES, ' From', 'subject ', 'To\t', 'x'), fc.string())
    .map(([n, v]) => `${n}:${v}`),
  fc.string().map((v) => ` ${v}`),
  fc.string().map((v) => `\t${v}`),
  fc.string(),
);

describe('HEADER.FIELDS read straight from the bytes', () => {
  it('agrees with the parsed header for any header, names and line ends', () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 12 }),
        fc.constantFrom('\r\n', '\n'),
        fc.subarray(['From', 'To', 'Subject', 'x-ünïcode', 'message-id']),
        fc.boolean(),
        (lines, eol, names, not) => {
          const text = lines.map((l) => l.replace(/[\r\n]/g, '')).join(eol) + `${eol}${eol}body${eol}`;
          const bytes = Buffer.from(text, 'utf8');
          const spec = `HEADER.FIELDS${not ? '.NOT' : ''} (${names.join(' ') || 'From'})`;
          const section = parseSection(spec, undefined);
          const expected = byParsing(bytes, section.fields, not);
          expect(extractSection(bytes, () => parseMime(bytes), section)).toEqual(expected);
          expect(extractSection(bytes, parseMime(bytes), parseSection(`1.${spec}`, undefined))).toEqual(
            Buffer.alloc(0),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
