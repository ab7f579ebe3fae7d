// The spec's own test vectors (spec.matrix.org, appendices: "Unpadded Base64", "Canonical JSON"
// examples, "Cryptographic Test Vectors"), plus the inputs canonical JSON must refuse.
import { describe, expect, it } from 'vitest';
import {
  CanonicalJsonError,
  canonicalJson,
  contentHashBase64,
  decodeBase64,
  decodeBase64Url,
  encodeBase64,
  encodeBase64Url,
  type JsonObject,
  redactEvent,
  signingKeyFromSeed,
  signJson,
  verifyJsonSignature,
} from '../src/index.js';

// Appendices, "Cryptographic Test Vectors": this seed, server "domain", key "ed25519:1".
const SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
const key = signingKeyFromSeed(SEED, '1');

describe('unpadded base64 (appendices)', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('%j → %j and back', (plain, encoded) => {
    expect(encodeBase64(Buffer.from(plain))).toBe(encoded);
    expect(decodeBase64(encoded).toString()).toBe(plain);
  });

  it('accepts padding when decoding, as the spec asks', () => {
    expect(decodeBase64('Zm8=').toString()).toBe('fo');
  });

  it('url-safe uses - and _', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf]);
    expect(encodeBase64(bytes)).toBe('+/+/');
    expect(encodeBase64Url(bytes)).toBe('-_-_');
    expect(decodeBase64Url('-_-_')).toEqual(bytes);
  });

  it.each(['Zm9v!', 'Z', 'Zm9vY', 'Zm 9v', '-_-_'])('refuses malformed std base64 %j', (bad) => {
    expect(() => decodeBase64(bad)).toThrow();
  });
});

describe('canonical JSON (appendices examples)', () => {
  it.each([
    ['{}', '{}'],
    ['{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'],
    ['{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      '{"auth":{"success":true,"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"medium":"email","address":"john.doe@example.org"},{"medium":"msisdn","address":"123456789"}]}}}',
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{"a": "日本語"}', '{"a":"日本語"}'],
    ['{"本": 2, "日": 1}', '{"日":1,"本":2}'],
    ['{"a": "\\u65E5"}', '{"a":"日"}'],
    ['{"a": null}', '{"a":null}'],
    ['{"a": -0, "b": 1e10}', '{"a":0,"b":10000000000}'],
  ])('%s', (input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('escapes only what the grammar allows', () => {
    expect(canonicalJson({ s: '"\\\b\f\n\r\t\u0001\u001f\u007f é \u2028' })).toBe(
      '{"s":"\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u007f é \u2028"}',
    );
  });

  it('sorts keys by code point, not UTF-16 unit', () => {
    // U+1F600 (surrogates D83D..) is above U+FFFD as a code point, below it as UTF-16 units.
    expect(canonicalJson({ '😀': 1, '\uFFFD': 2 })).toBe('{"\uFFFD":2,"😀":1}');
  });

  it.each([
    ['a float', { a: 1.5 }],
    ['an integer beyond 2^53-1', { a: 2 ** 53 }],
    ['a lone surrogate', { a: '\uD800' }],
    ['a Date', { a: new Date(0) }],
    ['a bigint', { a: 1n }],
  ])('refuses %s', (_what, value) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
  });
});

describe('JSON signing (appendices test vectors)', () => {
  it('signs {}', () => {
    expect(signJson({}, 'domain', key)).toEqual({
      signatures: {
        domain: {
          'ed25519:1':
            'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
        },
      },
    });
  });

  it('signs {one, two} and the signature verifies with the public key alone', () => {
    const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
    expect(signed).toEqual({
      one: 1,
      signatures: {
        domain: {
          'ed25519:1':
            'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
        },
      },
      two: 'Two',
    });
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', key.publicKeyBase64)).toBe(true);
  });

  it('the signature ignores unsigned and other signatures', () => {
    const signed = signJson({ one: 1, unsigned: { age: 5 } }, 'domain', key);
    const moved = {
      ...signed,
      unsigned: { age: 99 },
      signatures: { ...signed.signatures, other: { 'ed25519:x': 'AA' } },
    };
    expect(verifyJsonSignature(moved, 'domain', 'ed25519:1', key.publicKeyBase64)).toBe(true);
  });
});

// Appendices, "Event Signing": hash, redact, sign (v1-era events, but the algorithm is the same).
function hashAndSign(event: JsonObject): JsonObject {
  const hashed = { ...event, hashes: { sha256: contentHashBase64(event) } };
  const { signatures } = signJson(redactEvent(hashed), 'domain', key);
  return { ...hashed, signatures };
}

describe('event signing (appendices test vectors)', () => {
  it('a minimal event', () => {
    const out = hashAndSign({
      room_id: '!x:domain',
      sender: '@a:domain',
      origin: 'domain',
      origin_server_ts: 1000000,
      signatures: {},
      hashes: {},
      type: 'X',
      content: {},
      prev_events: [],
      auth_events: [],
      depth: 3,
      unsigned: { age_ts: 1000000 },
    });
    expect(out.hashes).toEqual({ sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' });
    expect(out.signatures).toEqual({
      domain: {
        'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
      },
    });
    expect(out.unsigned).toEqual({ age_ts: 1000000 });
  });

  it('an event with redactable content', () => {
    const out = hashAndSign({
      content: { body: 'Here is the message content' },
      event_id: '$0:domain',
      origin: 'domain',
      origin_server_ts: 1000000,
      type: 'm.room.message',
      room_id: '!r:domain',
      sender: '@u:domain',
      signatures: {},
      unsigned: { age_ts: 1000000 },
    });
    expect(out.hashes).toEqual({ sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' });
    expect(out.signatures).toEqual({
      domain: {
        'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
      },
    });
  });
});
