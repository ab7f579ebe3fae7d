// Building and verifying v10 PDUs: event IDs from reference hashes, tamper detection, forged
// signatures, the 65,536-byte limit (spec: server-server "Signing Events", client-server "Size limits").
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  EventFormatError,
  eventIdOf,
  generateSigningKey,
  type KeyLookup,
  toFederationPdu,
  verifyEvent,
} from '../src/index.js';

const server = 'hs1.test:8448';
const key = generateSigningKey();
const otherKey = generateSigningKey();
const lookup: KeyLookup = (name, keyId) =>
  name === server && keyId === key.keyId ? key.publicKeyBase64 : undefined;

function message(body: string) {
  return buildEvent(
    {
      roomId: `!room:${server}`,
      sender: `@alice:${server}`,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body },
      prevEvents: ['$prev'],
      authEvents: ['$create', '$member'],
      depth: 7,
      originServerTs: 1_700_000_000_000,
      origin: server,
    },
    key,
  );
}

describe('buildEvent', () => {
  it('hashes, signs and names the event by its reference hash', async () => {
    const ev = message('hello');
    expect(ev.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    expect(ev.event_id).toBe(eventIdOf(ev));
    expect(Object.keys(ev.signatures[server] ?? {})).toEqual([key.keyId]);
    const res = await verifyEvent(toFederationPdu(ev), lookup);
    expect(res).toMatchObject({ ok: true, eventId: ev.event_id });
  });

  it('two different messages get different IDs; the ID ignores unsigned data', () => {
    const a = message('a');
    const b = message('b');
    expect(a.event_id).not.toBe(b.event_id);
    expect(eventIdOf({ ...a, unsigned: { age: 3 } })).toBe(a.event_id);
  });

  it('refuses an event over 65,536 bytes with M_TOO_LARGE', () => {
    let err: unknown;
    try {
      message('x'.repeat(65_536));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventFormatError);
    expect((err as EventFormatError).errcode).toBe('M_TOO_LARGE');
    expect(() => message('x'.repeat(60_000))).not.toThrow();
  });
});

describe('verifyEvent refuses', () => {
  it('a message whose body was changed in transit (hash check → redacted copy)', async () => {
    const ev = toFederationPdu(message('pay 10 euros'));
    const tampered = { ...ev, content: { ...ev.content, body: 'pay 99 euros' } };
    const res = await verifyEvent(tampered, lookup);
    expect(res.ok).toBe(false);
    if (res.ok || res.reason !== 'hash')
      throw new Error(`expected a hash failure, got ${JSON.stringify(res)}`);
    expect(res.redacted.content).toEqual({});
  });

  it('a change to a signed key (depth) breaks the signature', async () => {
    const ev = toFederationPdu(message('hi'));
    const res = await verifyEvent({ ...ev, depth: 8 }, lookup);
    expect(res).toMatchObject({ ok: false, reason: 'signature' });
  });

  it('one flipped byte in the signature', async () => {
    const ev = toFederationPdu(message('hi'));
    const sig = ev.signatures[server]?.[key.keyId] ?? '';
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const res = await verifyEvent({ ...ev, signatures: { [server]: { [key.keyId]: flipped } } }, lookup);
    expect(res).toMatchObject({ ok: false, reason: 'signature' });
  });

  it("a forged event signed by another server's key under this server's name", async () => {
    const forged = buildEvent(
      {
        roomId: `!room:${server}`,
        sender: `@alice:${server}`,
        type: 'm.room.message',
        content: { body: 'I am alice' },
        prevEvents: [],
        authEvents: [],
        depth: 1,
        originServerTs: 1,
        origin: server,
      },
      { ...otherKey, keyId: key.keyId },
    );
    const res = await verifyEvent(toFederationPdu(forged), lookup);
    expect(res).toMatchObject({ ok: false, reason: 'signature' });
  });

  it('an event signed only by a server other than the sender’s', async () => {
    const ev = toFederationPdu(message('hi'));
    const res = await verifyEvent(
      { ...ev, signatures: { 'evil.test': ev.signatures[server] ?? {} } },
      lookup,
    );
    expect(res).toMatchObject({ ok: false, reason: 'signature' });
  });

  it.each([
    ['no content', (e: Record<string, unknown>) => ({ ...e, content: undefined })],
    ['a float depth', (e: Record<string, unknown>) => ({ ...e, depth: 1.5 })],
    ['prev_events not a list', (e: Record<string, unknown>) => ({ ...e, prev_events: '$x' })],
    ['a sender without a domain', (e: Record<string, unknown>) => ({ ...e, sender: '@alice' })],
  ])('a malformed event: %s', async (_what, mangle) => {
    const res = await verifyEvent(mangle(toFederationPdu(message('hi'))), lookup);
    expect(res).toMatchObject({ ok: false, reason: 'format' });
  });

  it('an oversized event received from a peer', async () => {
    const ev = toFederationPdu(message('hi'));
    const res = await verifyEvent({ ...ev, content: { body: 'x'.repeat(70_000) } }, lookup);
    expect(res).toMatchObject({ ok: false, reason: 'size' });
  });
});
