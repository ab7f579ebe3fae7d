import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checked, SmallFiles } from '../src/disk-cache.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portlab-disk-cache-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stat = (file: string) => statSync(file, { bigint: true });

describe('Checked: a value read from a file, read again when the file changes', () => {
  it('reads once while the file is unchanged, again after a write or a replacement by rename', () => {
    const file = path.join(dir, 'users.json');
    writeFileSync(file, '["alice"]');
    let reads = 0;
    // settledNs 0: keep at once (the changes below change the size or the inode, whatever the clock).
    const names = new Checked(
      file,
      () => {
        reads++;
        return JSON.parse(readText(file));
      },
      0n,
    );
    expect(names.get()).toEqual(['alice']);
    expect(names.get()).toEqual(['alice']);
    expect(reads).toBe(1);
    writeFileSync(file, '["alice","bob"]');
    expect(names.get()).toEqual(['alice', 'bob']);
    writeFileSync(`${file}.tmp`, '["carol","dave"]');
    renameSync(`${file}.tmp`, file); // how users.json and the run files are written
    expect(names.get()).toEqual(['carol', 'dave']);
    expect(reads).toBe(3);
  });

  it('with unsettledMs, uses a value from young times again for that long, and still sees a change at once', () => {
    const file = path.join(dir, 'run-young');
    writeFileSync(file, 'one');
    let reads = 0;
    const read = () => {
      reads++;
      return readText(file);
    };
    // A settledNs far above the file's age: its times stay young for the whole test.
    const young = new Checked(file, read, 10n ** 15n, 60_000);
    expect(young.get()).toBe('one');
    expect(young.get()).toBe('one');
    expect(reads).toBe(1);
    writeFileSync(`${file}.tmp`, 'two, longer');
    renameSync(`${file}.tmp`, file); // new times (a new inode): read at once
    expect(young.get()).toBe('two, longer');
    expect(reads).toBe(2);
    // Without it (the default), young times are read on every use.
    const strict = new Checked(file, read, 10n ** 15n);
    strict.get();
    strict.get();
    expect(reads).toBe(4);
  });

  it('keeps nothing from a file changed within the last second: a rewrite in the same clock tick is seen', () => {
    const file = path.join(dir, 'young.json');
    writeFileSync(file, '"one"');
    const value = new Checked(file, () => JSON.parse(readText(file)));
    expect(value.get()).toBe('one');
    writeFileSync(file, '"two"'); // same size, maybe the same times to the tick
    expect(value.get()).toBe('two');
  });

  it('a missing file is read each time (the reader says what it means: here, an error)', () => {
    const file = path.join(dir, 'missing.json');
    const value = new Checked(file, () => JSON.parse(readText(file)), 0n);
    expect(() => value.get()).toThrow(/ENOENT/);
    writeFileSync(file, '1');
    expect(value.get()).toBe(1);
  });
});

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

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
