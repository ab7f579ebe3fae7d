import { describe, expect, it } from 'vitest';
import { HeaderCache } from '../src/header-cache.js';

/** A header of 40 bytes: with the objects holding it, it counts for 240 in the cache's bound. */
const header = (n: number) => Buffer.alloc(40, 65 + (n % 26));
/** Room for 12 such headers (the largest a cache keeps is a 64th of its bound: 45 bytes here). */
const TWELVE = 12 * 240;

describe('the header cache', () => {
  it('stays within its bound, the oldest unused header going first', () => {
    const cache = new HeaderCache(TWELVE);
    for (let n = 0; n < 17; n++) cache.set(`m${n}`, header(n));
    // The marks set at insertion are cleared by the first pass that looks for room.
    const kept = Array.from({ length: 17 }, (_, n) => n).filter((n) => cache.get(`m${n}`));
    expect(kept).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  });

  it('gives a header used since the last pass a second chance (CLOCK)', () => {
    const cache = new HeaderCache(TWELVE);
    for (let n = 0; n < 13; n++) cache.set(`m${n}`, header(n));
    // m0 was the oldest when room was needed: it went, and the pass cleared every other mark.
    expect(cache.get('m0')).toBeUndefined();
    expect(cache.get('m1')?.header).toEqual(header(1));
    cache.set('m13', header(13));
    // m1 was used again since that pass: m2, the oldest unused, goes in its place.
    expect(cache.get('m2')).toBeUndefined();
    expect(cache.get('m1')).toBeDefined();
  });

  it('keeps one HEADER.FIELDS block beside a header, counted in its bound, replaced by the next one', () => {
    const cache = new HeaderCache(TWELVE);
    const entry = cache.set('m0', header(0));
    cache.setFields(entry, '[HEADER.FIELDS (FROM)]', Buffer.from('From: a\r\n\r\n'));
    expect(cache.get('m0')?.fields?.name).toBe('[HEADER.FIELDS (FROM)]');
    cache.setFields(entry, '[HEADER.FIELDS (SUBJECT)]', Buffer.from('Subject: b\r\n\r\n'));
    expect(cache.get('m0')?.fields).toEqual({
      name: '[HEADER.FIELDS (SUBJECT)]',
      bytes: Buffer.from('Subject: b\r\n\r\n'),
    });
    // Twelve headers alone would fit; with the block beside the first, one of them must go.
    for (let n = 1; n < 12; n++) cache.set(`m${n}`, header(n));
    expect(Array.from({ length: 12 }, (_, n) => n).filter((n) => cache.get(`m${n}`))).toHaveLength(11);
  });

  it('keeps a copy, not the buffer of the whole message the header was cut from', () => {
    const cache = new HeaderCache();
    const message = Buffer.from('Subject: hi\r\n\r\nbody');
    const entry = cache.set('m0', message.subarray(0, 15));
    message.fill(0);
    expect(entry.header.toString()).toBe('Subject: hi\r\n\r\n');
    expect(cache.set('m0', Buffer.from('other'))).toBe(entry);
  });

  it('does not keep a header larger than a 64th of its bound, but still hands it back', () => {
    const cache = new HeaderCache(64 * 100);
    const entry = cache.set('big', Buffer.alloc(101));
    expect(entry.header).toHaveLength(101);
    expect(cache.get('big')).toBeUndefined();
  });
});
