import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/buffer-pool.js';

describe('BufferPool (the buffers downloads are sent from)', () => {
  it('hands back a buffer given back, and makes new ones of its size when none is free', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    expect(a.length).toBe(1024);
    pool.give(a);
    expect(pool.take()).toBe(a);
  });

  it('keeps no more free buffers than its limit', () => {
    const pool = new BufferPool(16, 1);
    const [a, b] = [pool.take(), pool.take()];
    pool.give(a);
    pool.give(b); // one too many: left to the collector
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(b);
  });

  it('lets its free buffers go after a quiet while', async () => {
    const pool = new BufferPool(16, 4, 20);
    const a = pool.take();
    pool.give(a);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(pool.take()).not.toBe(a);
  });
});
