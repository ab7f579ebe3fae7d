import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HotFiles } from '../src/hot-files.js';

const work = mkdtempSync(path.join(tmpdir(), 'portlab-hot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Opens `file` as RETR does (jailed-fs.ts read), asks `hot`, closes. */
async function fetch(hot: HotFiles, file: string): Promise<Buffer | null> {
  const fd = openSync(file, 'r');
  try {
    return await hot.get(fd, fstatSync(fd, { bigint: true }));
  } finally {
    closeSync(fd);
  }
}

/** settledNs such that a file just written counts as settled (the default, 1 s, is tested on its own below). */
const ANY_AGE = -1_000_000_000n;

describe('HotFiles (files several downloads want at once, read once)', () => {
  it('reads a file whole, then answers from memory while the file is the same version', async () => {
    const file = path.join(work, 'sheet.pdf');
    writeFileSync(file, 'the sheet of the day');
    const hot = new HotFiles(1024, 4096, 30_000, ANY_AGE);
    const first = await fetch(hot, file);
    expect(first?.toString()).toBe('the sheet of the day');
    expect(await fetch(hot, file)).toBe(first); // the very bytes held, no read
  });

  it('reads a file again once it changed, even to the same size', async () => {
    const file = path.join(work, 'changed.txt');
    writeFileSync(file, 'version 1');
    const hot = new HotFiles(1024, 4096, 30_000, ANY_AGE);
    expect((await fetch(hot, file))?.toString()).toBe('version 1');
    await new Promise((resolve) => setTimeout(resolve, 20)); // past a tick of the file system's clock
    writeFileSync(file, 'version 2');
    expect((await fetch(hot, file))?.toString()).toBe('version 2');
  });

  it('does not keep a file changed within the last second: another change could keep its times', async () => {
    const file = path.join(work, 'young.txt');
    writeFileSync(file, 'just written');
    const hot = new HotFiles(); // settledNs: 1 s
    const first = await fetch(hot, file);
    expect(first?.toString()).toBe('just written');
    const second = await fetch(hot, file);
    expect(second?.toString()).toBe('just written');
    expect(second).not.toBe(first); // read again
  });

  it('reads once for downloads that start together', async () => {
    const file = path.join(work, 'together.bin');
    writeFileSync(file, Buffer.alloc(100_000, 7));
    const hot = new HotFiles(1024 * 1024, 4 * 1024 * 1024); // even a young file: the read is shared
    const [a, b, c] = await Promise.all([fetch(hot, file), fetch(hot, file), fetch(hot, file)]);
    expect(a?.length).toBe(100_000);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('holds no file larger than its limit, and drops the least recently used past its total', async () => {
    const big = path.join(work, 'big.bin');
    writeFileSync(big, Buffer.alloc(2048));
    const hot = new HotFiles(1024, 1500, 30_000, ANY_AGE);
    expect(await fetch(hot, big)).toBeNull(); // send.ts reads it as it sends it
    const [a, b] = [path.join(work, 'a.bin'), path.join(work, 'b.bin')];
    writeFileSync(a, Buffer.alloc(1000, 1));
    writeFileSync(b, Buffer.alloc(1000, 2));
    const heldA = await fetch(hot, a);
    expect(await fetch(hot, a)).toBe(heldA);
    await fetch(hot, b); // 2000 bytes > 1500: a, the least recently used, goes
    expect(await fetch(hot, a)).not.toBe(heldA);
  });

  it('lets its files go after a quiet while', async () => {
    const file = path.join(work, 'idle.txt');
    writeFileSync(file, 'idle');
    const hot = new HotFiles(1024, 4096, 20, ANY_AGE);
    const first = await fetch(hot, file);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await fetch(hot, file)).not.toBe(first);
  });
});
