import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { Flag, Session } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
import { ResponseWriter } from '../src/response.js';

/**
 * A socket whose kernel takes its time: each write is looked at (copied) only on a later turn of
 * the event loop, as the bytes of a write the kernel did not take at once are sent later, from
 * the memory they were given in.
 */
function slowSocket(): { socket: Socket; received: Buffer[] } {
  const received: Buffer[] = [];
  const socket = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      setImmediate(() => {
        received.push(Buffer.from(chunk));
        done();
      });
    },
  });
  return { socket: socket as unknown as Socket, received };
}

/** Bytes of their own for message n: a byte written over by another message shows. */
const bodyOf = (n: number, size: number) =>
  Buffer.from(Array.from({ length: size }, (_, i) => 33 + ((i * 7 + n * 13) % 90)));

describe('ResponseWriter', () => {
  it('sends every byte as written when the socket takes its writes late', async () => {
    const { socket, received } = slowSocket();
    const out = new ResponseWriter(socket, undefined);
    const expected: Buffer[] = [];
    out.hold();
    for (let n = 1; n <= 120; n++) {
      // Mostly copied into the writer's buffers; every tenth larger than it copies.
      const body = bodyOf(n, n % 10 === 0 ? 40_000 : 9_000 + n * 50);
      out.untagged(`${n} FETCH (UID ${n} BODY[] `, body, ')');
      expected.push(
        Buffer.from(`* ${n} FETCH (UID ${n} BODY[] {${body.length}}\r\n`),
        body,
        Buffer.from(')\r\n'),
      );
    }
    out.tagged('f1', 'OK', 'FETCH completed');
    out.release();
    expected.push(Buffer.from('f1 OK FETCH completed\r\n'));
    await new Promise<void>((resolve) => socket.end(resolve));
    const sent = Buffer.concat(received);
    const wanted = Buffer.concat(expected);
    expect(sent.length).toBe(wanted.length);
    // Where the first difference is, rather than megabytes of diff.
    const first = sent.findIndex((byte, i) => byte !== wanted[i]);
    expect(first).toBe(-1);
  });

  it('tells the transcript each literal as {N} ending its line and a summary line, then the rest', () => {
    const { socket } = slowSocket();
    const lines: [string, Flag[] | undefined][] = [];
    const transcript = { server: (line: string, flags?: Flag[]) => lines.push([line, flags]) };
    const out = new ResponseWriter(socket, transcript as unknown as Session);
    out.hold();
    out.untagged('1 FETCH (UID 4 BODY[] ', Buffer.from('hello'), ')');
    out.untagged('2 FETCH (BODY[1] ', Buffer.from('ab'), ' BODY[2] ', Buffer.from('xyz'), ' UID 5)');
    out.untagged('3 FETCH (BODY[] ', Buffer.from('tail'));
    out.tagged('f1', 'OK', 'FETCH completed');
    out.release();
    expect(lines).toEqual([
      ['* 1 FETCH (UID 4 BODY[] {5}', []],
      ['{5 bytes of message data}', ['summary']],
      [')', []],
      ['* 2 FETCH (BODY[1] {2}', []],
      ['{2 bytes of message data}', ['summary']],
      [' BODY[2] {3}', []],
      ['{3 bytes of message data}', ['summary']],
      [' UID 5)', []],
      ['* 3 FETCH (BODY[] {4}', []],
      ['{4 bytes of message data}', ['summary']],
      ['f1 OK FETCH completed', []],
    ]);
  });
});
