import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureUpdateArchive, updateArchive } from '../src/update.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-update-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo update archive (src/update.ts)', () => {
  it('is a ustar archive GNU tar lists and extracts, with its CC0 licence', () => {
    const bytes = updateArchive();
    expect(bytes.length % 10_240).toBe(0);
    const list = spawnSync('tar', ['-tvf', '-'], { input: bytes, encoding: 'utf8' });
    expect(list.status, list.stderr).toBe(0);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual([
      'portlab-update-1.0/LICENSE',
      'portlab-update-1.0/README.txt',
      'portlab-update-1.0/data/part-1.bin',
      'portlab-update-1.0/data/part-2.bin',
      'portlab-update-1.0/data/part-3.bin',
      'portlab-update-1.0/data/part-4.bin',
    ]);
    const license = spawnSync('tar', ['-xOf', '-', 'portlab-update-1.0/LICENSE'], { input: bytes });
    expect(license.stdout.toString()).toContain('CC0 1.0');
  });

  it('is the same bytes every time (the same info_hash on every machine)', () => {
    const a = createHash('sha256').update(updateArchive()).digest('hex');
    const b = createHash('sha256').update(updateArchive()).digest('hex');
    expect(a).toBe(b);
  });

  it('is rewritten only when the file on disk differs (a damaged copy is replaced)', async () => {
    const file = await ensureUpdateArchive(dir);
    utimesSync(file, new Date(0), new Date(0));
    await ensureUpdateArchive(dir);
    expect(statSync(file).mtimeMs).toBe(0); // same bytes: left alone
    const damaged = readFileSync(file);
    damaged[600]! ^= 0xff;
    writeFileSync(file, damaged);
    await ensureUpdateArchive(dir);
    expect(readFileSync(file).equals(updateArchive())).toBe(true);
  });
});
