import { describe, expect, it } from 'vitest';
import { BatchMemory } from '../src/message-loader.js';
import { COPIED_LITERAL_BYTES } from '../src/response.js';

describe('BatchMemory', () => {
  it('gives each batch in flight memory of its own, used again two batches later', () => {
    const memory = new BatchMemory(10_000);
    const a = memory.take(0, 99)!;
    const b = memory.take(0, 99)!;
    const c = memory.take(1, 99)!;
    // Room for the message and the byte more a read asks; side by side in one piece.
    expect(a.length).toBe(100);
    expect(b.byteOffset).toBe(a.byteOffset + 100);
    expect(b.buffer).toBe(a.buffer);
    // The next batch is read while this one is answered: never in the same memory.
    a.fill(1);
    b.fill(1);
    c.fill(2);
    expect(a.every((byte) => byte === 1) && b.every((byte) => byte === 1)).toBe(true);
    // Two batches later the first is answered: its memory is used again, from its start.
    const d = memory.take(2, 10)!;
    expect(d.buffer).toBe(a.buffer);
    expect(d.byteOffset).toBe(a.byteOffset);
    memory.release();
  });

  it('takes only messages the writer copies, and no more than a piece holds', () => {
    const memory = new BatchMemory(COPIED_LITERAL_BYTES * 3);
    // A larger literal goes to the socket as it is: its memory must stay its own.
    expect(memory.take(0, COPIED_LITERAL_BYTES + 1)).toBeUndefined();
    expect(memory.take(0, COPIED_LITERAL_BYTES)).toBeDefined();
    expect(memory.take(0, COPIED_LITERAL_BYTES)).toBeDefined();
    expect(memory.take(0, COPIED_LITERAL_BYTES)).toBeUndefined();
    memory.release();
  });
});
