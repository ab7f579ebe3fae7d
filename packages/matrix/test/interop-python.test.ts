// Our canonical JSON, signatures, content hashes and event IDs, checked by Synapse's own libraries
// (Debian python3-signedjson with python3-canonicaljson and python3-nacl), and the other way round.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  canonicalJson,
  encodeBase64,
  generateSigningKey,
  type RoomEvent,
  serverKeysResponse,
  signJson,
  verifyJsonSignature,
} from '../src/index.js';

const PY = '/usr/bin/python3';
const script = fileURLToPath(new URL('./python/crosscheck.py', import.meta.url));
const hasSignedJson =
  spawnSync(PY, ['-c', 'import signedjson.sign, canonicaljson'], { stdio: 'ignore' }).status === 0;
if (!hasSignedJson) console.warn('interop-python: skipped, install the Debian package python3-signedjson');

const server = 'hs1.test:8448';
const key = generateSigningKey('py1');

function event(type: string, content: Record<string, unknown>, stateKey?: string): RoomEvent {
  return buildEvent(
    {
      roomId: `!room:${server}`,
      sender: `@alice:${server}`,
      type,
      ...(stateKey === undefined ? {} : { stateKey }),
      content,
      prevEvents: ['$abc'],
      authEvents: ['$def', '$ghi'],
      depth: 12,
      originServerTs: 1_733_000_000_000,
      origin: server,
    },
    key,
  );
}

function crosscheck(job: Record<string, unknown>) {
  const r = spawnSync(PY, [script], {
    input: JSON.stringify({
      server,
      keyId: key.keyId,
      publicKey: key.publicKeyBase64,
      seed: encodeBase64(key.seed),
      ...job,
    }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`crosscheck.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// A seeded generator of JSON values (the same ones every run): keys and strings from every Unicode
// plane but lone surrogates, control characters, integers up to ±(2^53−1), nesting.
function randomValues(count: number, seed = 16): unknown[] {
  let x = seed;
  const rnd = () => {
    // xorshift32: exact in 32-bit integer arithmetic
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const ranges = [
    [0x00, 0x7f],
    [0x80, 0x7ff],
    [0x800, 0xd7ff],
    [0xe000, 0xffff],
    [0x10000, 0x10ffff],
  ] as const;
  const str = () => {
    let t = '';
    for (let n = Math.floor(rnd() * 8); n > 0; n--) {
      const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)] as readonly [number, number];
      t += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
    }
    return t;
  };
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) {
      const k = Math.floor(rnd() * 5);
      if (k === 0) return str();
      if (k === 1) return Math.floor((rnd() - 0.5) * 2 * (rnd() < 0.5 ? 1000 : 2 ** 53 - 1));
      if (k === 2) return rnd() < 0.5;
      if (k === 3) return null;
      return -0;
    }
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let n = Math.floor(rnd() * 5); n > 0; n--) o[str()] = value(depth + 1);
    return o;
  };
  return Array.from({ length: count }, () => value(0));
}

describe.skipIf(!hasSignedJson)('interop with Synapse’s signedjson and canonicaljson', () => {
  it('300 generated values encode to the same canonical bytes', () => {
    const values = randomValues(300);
    const text = JSON.stringify(values);
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBeGreaterThan(150); // varied
    expect(text).toMatch(/[\u{10000}-\u{10ffff}]/u); // astral characters among them
    const out = crosscheck({ values, signed: [], events: [] });
    const ours = values.map((v) => canonicalJson(v));
    for (let i = 0; i < values.length; i++) expect(out.canonical[i], `value ${i}`).toBe(ours[i]);
  });

  it('same canonical JSON, signatures both ways, same content hashes and event IDs', () => {
    const values = [
      { b: 2, a: [1, { d: null, c: true }], é: 'ünïcode 日本語 😀', '\uFFFD': -0, big: 2 ** 53 - 1 },
      { s: '"\\\b\f\n\r\t\u0001\u001f\u007f' },
    ];
    const signed = [
      signJson({ one: 1, two: 'Two' }, server, key),
      serverKeysResponse({ serverName: server, key }),
    ];
    const tampered = { ...signed[0], two: 'Three' };
    const events = [
      event('m.room.message', { msgtype: 'm.text', body: 'héllo' }),
      event('m.room.member', { membership: 'join', displayname: 'Alice' }, `@alice:${server}`),
      event(
        'm.room.power_levels',
        { users: { [`@alice:${server}`]: 100 }, ban: 50, events: { 'm.room.name': 50 } },
        '',
      ),
    ];
    const out = crosscheck({ values, signed: [...signed, tampered], events });

    expect(out.canonical).toEqual(values.map((v) => canonicalJson(v)));
    expect(out.signedOk).toEqual([true, true, false]);
    expect(out.events).toEqual(
      events.map((e) => ({ contentHash: e.hashes.sha256, eventId: e.event_id, signatureOk: true })),
    );
    expect(verifyJsonSignature(out.pythonSigned, server, key.keyId, key.publicKeyBase64)).toBe(true);
    expect(verifyJsonSignature({ ...out.pythonSigned, n: 2 }, server, key.keyId, key.publicKeyBase64)).toBe(
      false,
    );
  });
});
