import { mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmallFiles } from '../src/disk-cache.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portlab-disk-cache-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stat = (file: string) => statSync(file, { bigint: true });

describe('SmallFiles: small files served from memory while a stat says they are unchanged', () => {
  it('gives the bytes with the stat they go with, and new bytes after a change', () => {
    const files = new SmallFiles(1024, 4096, 0n);
    const file = path.join(dir, 'index.html');
    writeFileSync(file, '<h1>Alice</h1>\n');
    const first = files.get(file, stat(file))!;
    expect(first.bytes.toString()).toBe('<h1>Alice</h1>\n');
    expect(first.stats.size).toBe(15n);
    expect(files.get(file, stat(file))).toBe(first); // the same copy, not read again
    writeFileSync(file, '<h1>Alice, changed</h1>\n');
    expect(files.get(file, stat(file))!.bytes.toString()).toBe('<h1>Alice, changed</h1>\n');
  });

  it('a file replaced by another of the same size (a new inode) is read again', () => {
    const files = new SmallFiles(1024, 4096, 0n);
    const file = path.join(dir, 'page.html');
    writeFileSync(file, 'AAAA');
    expect(files.get(file, stat(file))!.bytes.toString()).toBe('AAAA');
    writeFileSync(`${file}.new`, 'BBBB');
    renameSync(`${file}.new`, file);
    expect(files.get(file, stat(file))!.bytes.toString()).toBe('BBBB');
  });

  it('an oversized file is not held (null: stream it), and the total stays under its bound', () => {
    const files = new SmallFiles(1024, 2048, 0n);
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(1025));
    expect(files.get(big, stat(big))).toBeNull();
    // Three files of 1,000 bytes in 2,048: the first is dropped, and read again from the disk.
    const names = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.txt`));
    for (const n of names) writeFileSync(n, n.slice(-5, -4).repeat(1000));
    const held = names.map((n) => files.get(n, stat(n))!);
    expect(files.get(names[2]!, stat(names[2]!))).toBe(held[2]);
    const again = files.get(names[0]!, stat(names[0]!))!;
    expect(again).not.toBe(held[0]);
    expect(again.bytes.toString()).toBe('a'.repeat(1000));
  });
});
