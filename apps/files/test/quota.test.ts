import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { usedBytes } from '../src/quota.js';

const work = mkdtempSync(path.join(tmpdir(), 'portlab-quota-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('usedBytes (the quota: what a user folder holds)', () => {
  it('counts every file, in sub-folders too', async () => {
    const home = path.join(work, 'alice');
    mkdirSync(path.join(home, 'public_html'), { recursive: true });
    writeFileSync(path.join(home, 'a.bin'), Buffer.alloc(1000));
    writeFileSync(path.join(home, 'public_html', 'index.html'), Buffer.alloc(234));
    expect(await usedBytes(home)).toBe(1234);
  });

  it('counts a file removed between the listing and its lstat as nothing, not as an error', async () => {
    // Another upload of the same user ends meanwhile: its temp file is removed (limits.test.ts saw
    // "550 /keep.bin: no such file or folder" for a STOR). Removed here just before its lstat.
    const home = path.join(work, 'bob');
    mkdirSync(home);
    writeFileSync(path.join(home, 'kept.bin'), Buffer.alloc(500));
    const temp = path.join(home, '.portlab-upload-0123456789abcdef');
    writeFileSync(temp, Buffer.alloc(300));
    const removedFirst = (file: string) => {
      if (file === temp) unlinkSync(temp);
      return lstat(file);
    };
    expect(await usedBytes(home, undefined, removedFirst)).toBe(500);
  });

  it('still fails on another error than a file gone', async () => {
    const home = path.join(work, 'carol');
    mkdirSync(home);
    writeFileSync(path.join(home, 'x.bin'), 'x');
    const denied = () =>
      Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
    await expect(usedBytes(home, undefined, denied)).rejects.toThrow(/EACCES/);
  });
});
