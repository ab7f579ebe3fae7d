import { describe, expect, it } from 'vitest';
import { decodeMailboxName, encodeMailboxName } from '../src/mailbox-name.js';
import { decodeQuotedPrintable } from '../src/mime/decode.js';
import { extractSection, parseSection } from '../src/mime/section.js';
import { parseMime } from '../src/mime/structure.js';

describe('modified UTF-7 mailbox names (RFC 3501 §5.1.3)', () => {
  it('round-trips non-ASCII names and & itself', () => {
    for (const name of ['Café', 'Entwürfe', '日本語', 'R&D', 'plain']) {
      expect(decodeMailboxName(encodeMailboxName(name))).toBe(name);
    }
    expect(encodeMailboxName('Café')).toBe('Caf&AOk-');
    expect(encodeMailboxName('R&D')).toBe('R&-D');
    expect(decodeMailboxName('bad&AOk')).toBeNull();
  });
});

describe('the byte-offset MIME parser', () => {
  it('finds parts in a message typed with bare LF line ends', () => {
    const bytes = Buffer.from(
      'Subject: lf\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x\nContent-Type: text/html\n\n<b>two</b>\n--x--\n',
    );
    const root = parseMime(bytes);
    expect(root.parts).toHaveLength(2);
    expect(extractSection(bytes, root, parseSection('1', undefined)).toString()).toBe('one');
    expect(extractSection(bytes, root, parseSection('2', undefined)).toString()).toBe('<b>two</b>');
    expect(extractSection(bytes, root, parseSection('2.MIME', undefined)).toString()).toBe(
      'Content-Type: text/html\n\n',
    );
    expect(extractSection(bytes, root, parseSection('TEXT', '<0.3>')).toString()).toBe('--x');
  });

  it('treats a message without Content-Type as text/plain, part 1 being its body', () => {
    const bytes = Buffer.from('Subject: none\r\n\r\nbody\r\n');
    const root = parseMime(bytes);
    expect(root.contentType).toMatchObject({ type: 'text', subtype: 'plain' });
    expect(extractSection(bytes, root, parseSection('1', undefined)).toString()).toBe('body\r\n');
  });

  it('decodes quoted-printable with soft line breaks', () => {
    expect(decodeQuotedPrintable(Buffer.from('caf=C3=A9 au=\r\n lait=3D')).toString()).toBe('café au lait=');
  });
});
