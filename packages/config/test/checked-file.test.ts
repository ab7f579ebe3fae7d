import {
  type BigIntStats,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckedFile, SETTLED_NS, sameVersion, settled } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portlab-checked-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

const stat = (file: string) => statSync(file, { bigint: true });

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** A CheckedFile of `file`'s text, and how many times it read the file. */
function counted(file: string, settledNs?: bigint, unsettledMs?: number) {
  const counter = { reads: 0 };
  const value = new CheckedFile(
    file,
    () => {
      counter.reads++;
      return readText(file);
    },
    settledNs,
    unsettledMs,
  );
  return { value, counter };
}

/**
 * The clock one minute on (Date only: the file system still stamps with the real clock), so that a
 * file just written looks settled to CheckedFile: no test waits a second.
 */
function aMinuteLater(): void {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now + 60_000);
}

/** Returns once the file system's clock has ticked past `file`'s change time: a write now gets other times. */
function afterTick(file: string): void {
  const probe = path.join(dir, 'tick-probe');
  const before = stat(file).ctimeNs;
  do writeFileSync(probe, '');
  while (stat(probe).ctimeNs <= before);
}

describe('sameVersion: one stat against another', () => {
  it('tells a change of any of device, inode, size, modification or change time', () => {
    const file = path.join(dir, 'version');
    writeFileSync(file, 'v');
    const s = stat(file);
    const other = (change: Partial<BigIntStats>) => ({ ...s, ...change }) as BigIntStats;
    expect(sameVersion(s, other({}))).toBe(true);
    expect(sameVersion(s, other({ dev: s.dev + 1n }))).toBe(false);
    expect(sameVersion(s, other({ ino: s.ino + 1n }))).toBe(false);
    expect(sameVersion(s, other({ size: s.size + 1n }))).toBe(false);
    expect(sameVersion(s, other({ mtimeNs: s.mtimeNs + 1n }))).toBe(false);
    expect(sameVersion(s, other({ ctimeNs: s.ctimeNs + 1n }))).toBe(false);
  });

  it('settled: times older than SETTLED_NS (1 s), by the change time', () => {
    const file = path.join(dir, 'age');
    writeFileSync(file, 'a');
    expect(settled(stat(file))).toBe(false);
    expect(settled(stat(file), 0n)).toBe(true);
    aMinuteLater();
    expect(settled(stat(file))).toBe(true);
    expect(SETTLED_NS).toBe(1_000_000_000n);
  });
});

describe('CheckedFile: a value read from a file, read again when the file changes', () => {
  it('reads once while the file is unchanged, again after a write or a replacement by rename', () => {
    const file = path.join(dir, 'users.json');
    writeFileSync(file, '["alice"]');
    let reads = 0;
    // settledNs 0: keep at once (the changes below change the size or the inode, whatever the clock).
    const names = new CheckedFile(
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

  /** `file` written with `before`, kept (settled), then changed by `change`: the next use reads it again. */
  function seenAfter(name: string, before: string, change: (file: string) => void, after: string): void {
    const file = path.join(dir, name);
    writeFileSync(file, before);
    aMinuteLater();
    const { value, counter } = counted(file);
    expect(value.get()).toBe(before);
    expect(value.get()).toBe(before);
    expect(counter.reads).toBe(1); // kept: settled
    change(file);
    expect(value.get()).toBe(after);
    expect(counter.reads).toBe(2);
  }

  it('sees the contents changed in place to the same size (a teacher editing by hand)', () => {
    seenAfter(
      'same-size',
      'bob',
      (file) => {
        afterTick(file);
        writeFileSync(file, 'eve'); // same size, same inode: only the times tell
      },
      'eve',
    );
  });

  it('sees a file replaced by rename with one of the same size (a new inode)', () => {
    seenAfter(
      'renamed',
      'AAAA',
      (file) => {
        writeFileSync(`${file}.new`, 'BBBB');
        renameSync(`${file}.new`, file);
      },
      'BBBB',
    );
  });

  it('a file removed is read (the reader says what that means), and read again once it is back', () => {
    const file = path.join(dir, 'removed');
    writeFileSync(file, 'here');
    aMinuteLater();
    const value = new CheckedFile(file, () => {
      try {
        return readText(file);
      } catch {
        return 'none';
      }
    });
    expect(value.get()).toBe('here');
    unlinkSync(file);
    expect(value.get()).toBe('none');
    expect(value.get()).toBe('none');
    writeFileSync(file, 'back');
    expect(value.get()).toBe('back');
  });

  it('a file a stat fails on (here ENOTDIR) is read each time, and the reader meets the error', () => {
    const file = path.join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const inside = path.join(file, 'zone.json');
    let reads = 0;
    const value = new CheckedFile(inside, () => {
      reads++;
      return readText(inside);
    });
    expect(() => value.get()).toThrow(/ENOTDIR/);
    expect(() => value.get()).toThrow(/ENOTDIR/);
    expect(reads).toBe(2);
  });

  it('a missing file is read each time (the reader says what it means: here, an error)', () => {
    const file = path.join(dir, 'missing.json');
    const value = new CheckedFile(file, () => JSON.parse(readText(file)), 0n);
    expect(() => value.get()).toThrow(/ENOENT/);
    writeFileSync(file, '1');
    expect(value.get()).toBe(1);
  });

  it('reads a file changed within the last second on every use, by its change time, and keeps it once older', () => {
    const file = path.join(dir, 'young');
    writeFileSync(file, 'one');
    const { value, counter } = counted(file);
    expect(value.get()).toBe('one');
    expect(value.get()).toBe('one');
    expect(counter.reads).toBe(2); // too young to trust its times: a rewrite in this tick would not show
    // A modification time set back (cp -p, tar, touch -d) is no age: utimes(2) stamps the change time.
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    value.get();
    value.get();
    expect(counter.reads).toBe(4);
    aMinuteLater();
    value.get();
    value.get();
    expect(counter.reads).toBe(5);
  });

  it('keeps nothing from a file changed within the last second: a rewrite in the same clock tick is seen', () => {
    const file = path.join(dir, 'young.json');
    writeFileSync(file, '"one"');
    const value = new CheckedFile(file, () => JSON.parse(readText(file)));
    expect(value.get()).toBe('one');
    writeFileSync(file, '"two"'); // same size, maybe the same times to the tick
    expect(value.get()).toBe('two');
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
    const young = new CheckedFile(file, read, 10n ** 15n, 60_000);
    expect(young.get()).toBe('one');
    expect(young.get()).toBe('one');
    expect(reads).toBe(1);
    writeFileSync(`${file}.tmp`, 'two, longer');
    renameSync(`${file}.tmp`, file); // new times (a new inode): read at once
    expect(young.get()).toBe('two, longer');
    expect(reads).toBe(2);
    // Without it (the default), young times are read on every use.
    const strict = new CheckedFile(file, read, 10n ** 15n);
    strict.get();
    strict.get();
    expect(reads).toBe(4);
  });
});
