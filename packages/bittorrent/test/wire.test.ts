import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Bitfield,
  encodeHandshake,
  encodeMessage,
  HandshakeReader,
  type Message,
  MessageReader,
  ProtocolError,
} from '../src/index.js';

const LIMIT = 16 * 1024 + 9;

describe('peer wire messages (BEP 3)', () => {
  const messages: Message[] = [
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'notInterested' },
    { type: 'have', index: 17 },
    { type: 'bitfield', bits: Buffer.from([0xff, 0x80]) },
    { type: 'request', index: 3, begin: 16384, length: 16384 },
    { type: 'cancel', index: 3, begin: 16384, length: 16384 },
    { type: 'piece', index: 3, begin: 0, block: Buffer.from('data') },
    { type: 'extended', extId: 0, payload: Buffer.from('de') },
    { type: 'unknown', id: 14, payload: Buffer.alloc(0) },
  ];

  it('reads back every message it writes, even one byte at a time', () => {
    const bytes = Buffer.concat(messages.map(encodeMessage));
    const reader = new MessageReader(LIMIT);
    const read = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
    expect(read).toEqual(messages);
  });

  it('refuses an absurd length prefix before buffering anything', () => {
    const reader = new MessageReader(LIMIT);
    expect(() => reader.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 7]))).toThrow(
      /length 4294967295 is larger/,
    );
  });

  it.each([
    ['a have of 3 bytes', Buffer.from([0, 0, 0, 4, 4, 0, 0, 1])],
    ['a request of 8 bytes', Buffer.from([0, 0, 0, 9, 6, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['a choke with a payload', Buffer.from([0, 0, 0, 2, 0, 1])],
    ['a piece without its header', Buffer.from([0, 0, 0, 3, 7, 0, 0])],
  ])('refuses %s with a ProtocolError', (_name, bytes) => {
    expect(() => new MessageReader(LIMIT).push(bytes)).toThrow(ProtocolError);
  });

  it('never fails on arbitrary bytes other than with a ProtocolError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const reader = new MessageReader(LIMIT);
        try {
          for (const chunk of chunks) reader.push(Buffer.from(chunk));
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('splits any stream of valid messages back into the same messages, wherever the chunks break', () => {
    const arbitraryMessage: fc.Arbitrary<Message> = fc.oneof(
      fc.constant<Message>({ type: 'interested' }),
      fc.nat(1000).map<Message>((index) => ({ type: 'have', index })),
      fc
        .record({ index: fc.nat(100), begin: fc.nat(1 << 20), length: fc.integer({ min: 1, max: 16384 }) })
        .map<Message>((r) => ({ type: 'request', ...r })),
      fc
        .uint8Array({ maxLength: 300 })
        .map<Message>((b) => ({ type: 'piece', index: 1, begin: 0, block: Buffer.from(b) })),
    );
    fc.assert(
      fc.property(
        fc.array(arbitraryMessage, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (list, cuts) => {
          const bytes = Buffer.concat(list.map(encodeMessage));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const reader = new MessageReader(LIMIT);
          const read: Message[] = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            read.push(...reader.push(bytes.subarray(from, to)));
            from = to;
          }
          expect(read).toEqual(list);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('handshake', () => {
  const hash = Buffer.alloc(20, 1);
  const id = Buffer.from('-PL0100-abcdefghijkl');

  it('reads a handshake and the bytes after it, and the BEP 10 bit', () => {
    const reader = new HandshakeReader();
    const bytes = Buffer.concat([encodeHandshake(hash, id), Buffer.from([0, 0, 0, 0])]);
    expect(reader.push(bytes.subarray(0, 30))).toBeUndefined();
    const done = reader.push(bytes.subarray(30))!;
    expect(done.handshake).toEqual({ infoHash: hash, peerId: id, extended: true });
    expect(done.rest).toEqual(Buffer.from([0, 0, 0, 0]));
  });

  it('fails at the first byte of an encrypted (MSE) handshake, so the client falls back to plain', () => {
    expect(() => new HandshakeReader().push(Buffer.from([0x90]))).toThrow(/not a plain BitTorrent handshake/);
  });

  it('fails on a wrong protocol name as soon as it differs', () => {
    expect(() => new HandshakeReader().push(Buffer.from('\x13BitTorrent protocoX'))).toThrow(
      /protocol name differs/,
    );
  });
});

describe('bitfield', () => {
  it('refuses spare bits and wrong lengths (BEP 3: drop the peer)', () => {
    expect(() => Bitfield.fromWire(Buffer.from([0xff, 0xff]), 10)).toThrow(/spare bits/);
    expect(() => Bitfield.fromWire(Buffer.from([0xff]), 10)).toThrow(/expected 2/);
    expect(Bitfield.fromWire(Buffer.from([0xff, 0xc0]), 10).complete).toBe(true);
  });
});
