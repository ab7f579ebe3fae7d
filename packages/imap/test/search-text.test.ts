import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMime } from '../src/mime/structure.js';
import { containsText, Needle } from '../src/text-search.js';
import { type ImapLab, RawClient, startImapLab } from './helpers.js';

/** A message of header lines, then the body given as text or bytes (CRLF line ends). */
function mail(header: string[], body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([...header, '', ''].join('\r\n')), Buffer.from(body)]);
}

const single = (type: string, encoding: string, body: string | Buffer) =>
  mail(['Subject: test', `Content-Type: ${type}`, `Content-Transfer-Encoding: ${encoding}`], body);

const BASE64 = single(
  'text/plain; charset=utf-8',
  'base64',
  Buffer.from('a quokka smiles').toString('base64'),
);
/** RFC 2045 §6.7: `=` at a line end is a soft break, not a character: "marsupial" is one word. */
const QUOTED_PRINTABLE = single(
  'text/plain; charset=utf-8',
  'quoted-printable',
  'a mar=\r\nsupial, caf=C3=A9',
);
const EIGHT_BIT = single('text/plain; charset=utf-8', '8bit', 'Crème brûlée for 300 \u212A.');
const LATIN1 = single('text/plain; charset=iso-8859-1', '8bit', Buffer.from('déjà vu', 'latin1'));
/** UTF-16: every other byte is zero, ASCII bytes all the same; only decoding shows the words. */
const UTF16 = single(
  'text/plain; charset=utf-16le',
  'base64',
  Buffer.from('hidden word', 'utf16le').toString('base64'),
);
const ATTACHMENT = mail(
  ['Subject: =?utf-8?q?r=C3=A9sum=C3=A9?=', 'Content-Type: multipart/mixed; boundary="b"'],
  [
    '--b',
    'Content-Type: text/plain',
    '',
    'The ZanZiBar report, see a.c',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('walrus').toString('base64'),
    '--b--',
    '',
  ].join('\r\n'),
);

const found = (bytes: Buffer, value: string, withHeader = true) =>
  containsText(bytes, parseMime(bytes), new Needle(value), withHeader);

describe('SEARCH BODY and TEXT look in decoded text (RFC 3501 §6.4.4)', () => {
  it('finds a word only a base64 or quoted-printable part holds, across a soft line break', () => {
    expect(found(BASE64, 'QUOKKA')).toBe(true);
    expect(found(BASE64, Buffer.from('quokka').toString('base64').slice(0, 6))).toBe(false);
    expect(found(QUOTED_PRINTABLE, 'marsupial')).toBe(true);
    expect(found(QUOTED_PRINTABLE, 'café')).toBe(true);
    expect(found(QUOTED_PRINTABLE, 'mar=')).toBe(false);
  });

  it('finds words in 8-bit UTF-8 and in other charsets, without regard to case', () => {
    expect(found(EIGHT_BIT, 'BRÛLÉE')).toBe(true);
    expect(found(EIGHT_BIT, 'crème')).toBe(true);
    expect(found(LATIN1, 'DÉJÀ')).toBe(true);
    expect(found(UTF16, 'hidden word')).toBe(true);
  });

  it('lowercases 8-bit text as Unicode does: the Kelvin sign is a k', () => {
    expect(found(EIGHT_BIT, '300 k.')).toBe(true);
  });

  it('searches plain ASCII text as it is, without case, and the needle as a string, not a pattern', () => {
    expect(found(ATTACHMENT, 'zanzibar')).toBe(true);
    expect(found(ATTACHMENT, 'a.c')).toBe(true);
    expect(found(ATTACHMENT, 're.ort')).toBe(false);
    expect(found(ATTACHMENT, 'the z')).toBe(true);
  });

  it('looks in text parts only, and in the decoded header for TEXT alone', () => {
    expect(found(ATTACHMENT, 'walrus')).toBe(false);
    expect(found(ATTACHMENT, 'résumé')).toBe(true);
    expect(found(ATTACHMENT, 'résumé', false)).toBe(false);
  });
});

describe('SEARCH TEXT over the wire', () => {
  let lab: ImapLab;
  beforeAll(async () => {
    lab = await startImapLab();
    for (const bytes of [BASE64, QUOTED_PRINTABLE, EIGHT_BIT, LATIN1, UTF16, ATTACHMENT])
      await lab.store.deliver('bob', bytes);
  });
  afterAll(() => lab.stop());

  it('finds words in every encoding, and non-ASCII words sent with CHARSET UTF-8', async () => {
    const c = await RawClient.connect(lab.port);
    await c.command('a1', 'LOGIN bob builder');
    await c.command('a2', 'SELECT INBOX');
    const search = async (key: string) => {
      // A non-ASCII word goes as a literal of its UTF-8 bytes (RFC 3501 §4.3), counted in bytes.
      const bytes = Buffer.from(key, 'utf8');
      c.socket.write(
        Buffer.concat([
          Buffer.from(`s1 SEARCH CHARSET UTF-8 TEXT {${bytes.length}+}\r\n`),
          bytes,
          Buffer.from('\r\n'),
        ]),
      );
      const answer = await c.until(/^s1 (OK|NO|BAD).*\r\n/m);
      return /^\* SEARCH(.*)\r\n/m.exec(answer)?.[1]?.trim();
    };
    expect(await search('quokka')).toBe('1');
    expect(await search('marsupial')).toBe('2');
    expect(await search('BRÛLÉE')).toBe('3');
    expect(await search('déjà')).toBe('4');
    expect(await search('hidden word')).toBe('5');
    expect(await search('zanzibar')).toBe('6');
    expect(await search('café')).toBe('2');
    expect(await search('walrus')).toBe('');
    c.close();
  });
});
