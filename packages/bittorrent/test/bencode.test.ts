import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BencodeError, decode, encode, scan } from '../src/index.js';

const limits = { maxBytes: 1024 * 1024, maxDepth: 16 };

describe('bounded bencode', () => {
  it('decodes what it encodes, strings as bytes', () => {
    const value = decode(encode({ a: 1, list: ['x', -3], nested: { k: 'v' } }), limits) as Record<
      string,
      unknown
    >;
    expect(value.a).toBe(1);
    expect(Buffer.from((value.list as Uint8Array[])[0]!).toString()).toBe('x');
  });

  it('gives the exact byte span of each top-level value (the info dict of a .torrent)', () => {
    const bytes = Buffer.from('d8:announce3:url4:infod4:name1:xee');
    const span = scan(bytes, limits).get('info')!;
    expect(bytes.subarray(span.start, span.end).toString()).toBe('d4:name1:xe');
  });

  it.each([
    [
      'deep nesting (a bencode bomb)',
      Buffer.from(`${'l'.repeat(100_000)}${'e'.repeat(100_000)}`),
      /nesting deeper/,
    ],
    ['a string length larger than the data', Buffer.from('4294967295:abc'), /claims 4294967295 bytes/],
    ['more bytes than the size limit', Buffer.alloc(limits.maxBytes + 1, 0x30), /more than the limit/],
    ['trailing bytes', Buffer.from('i1ei2e'), /trailing bytes/],
    ['an integer with a leading zero', Buffer.from('i012e'), /bad integer/],
    ['minus zero', Buffer.from('i-0e'), /bad integer/],
    ['an unterminated list', Buffer.from('li1e'), /unterminated list/],
    ['a dictionary key that is not a string', Buffer.from('di1ei2ee'), /bad string length/],
    ['empty input', Buffer.alloc(0), /data ends/],
  ])('refuses %s with a BencodeError', (_name, bytes, message) => {
    expect(() => decode(bytes, limits)).toThrow(message);
  });

  it('never fails on random bytes other than with a BencodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decode(bytes, { maxBytes: 1000, maxDepth: 4 });
        } catch (err) {
          expect(err).toBeInstanceOf(BencodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never fails on near-bencode (mutated valid input) other than with a BencodeError', () => {
    const valid = encode({
      announce: 'http://x/announce',
      info: { length: 5, name: 'a', list: [1, 2, 'b'] },
    });
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bytes = Buffer.from(valid);
        bytes[at] = byte;
        try {
          decode(bytes, { maxBytes: 1000, maxDepth: 4 });
        } catch (err) {
          expect(err).toBeInstanceOf(BencodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
