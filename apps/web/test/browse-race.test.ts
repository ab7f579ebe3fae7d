import { lstatSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listDir } from '../src/browse/files.js';

const work = mkdtempSync(path.join(tmpdir(), 'portlab-browse-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the files panel's listing of a folder that changes meanwhile", () => {
  it('leaves out an entry gone between readdir and its lstat (an upload renamed into place)', () => {
    writeFileSync(path.join(work, 'index.html'), '<h1>hi</h1>');
    const temp = path.join(work, '.portlab-upload-0123456789abcdef');
    writeFileSync(temp, 'half a page');
    const renamedFirst = (file: string) => {
      if (file === temp) unlinkSync(temp);
      return lstatSync(file);
    };
    expect(listDir(work, renamedFirst).map((e) => e.name)).toEqual(['index.html']);
  });

  it('still fails on another error', () => {
    const denied = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(() => listDir(work, denied)).toThrow(/EACCES/);
  });
});
