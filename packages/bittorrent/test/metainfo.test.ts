import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { choosePieceLength, createMetainfo, encode, parseMetainfo, scan, sha1 } from '../src/index.js';
import { randomFile } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-metainfo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasAria2 = (() => {
  try {
    execFileSync('aria2c', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('metainfo (BEP 3, v1)', () => {
  it('creates a .torrent whose pieces are the SHA-1 of each piece of the file', async () => {
    const file = randomFile(dir, 'photo.bin', 100_000);
    const bytes = await createMetainfo(file, {
      announce: 'http://127.0.0.1:6969/announce',
      pieceLength: 32768,
    });
    const meta = parseMetainfo(bytes);
    expect(meta).toMatchObject({ name: 'photo.bin', length: 100_000, pieceLength: 32768 });
    expect(meta.pieceHashes).toHaveLength(4);
    const span = scan(bytes, { maxBytes: 1 << 20, maxDepth: 4 }).get('info')!;
    expect(meta.infoHash).toEqual(sha1(bytes.subarray(span.start, span.end)));
  });

  it.skipIf(!hasAria2)('computes the same info_hash as aria2c', async () => {
    const file = randomFile(dir, 'same.bin', 70_000);
    const torrent = path.join(dir, 'same.torrent');
    writeFileSync(torrent, await createMetainfo(file, { announce: 'http://127.0.0.1:6969/announce' }));
    const shown = execFileSync('aria2c', ['--show-files', torrent], { encoding: 'utf8' });
    expect(shown).toContain(
      `Info Hash: ${parseMetainfo(await createMetainfo(file, { announce: 'x' })).infoHash.toString('hex')}`,
    );
  });

  it('keeps small files in many pieces and large ones under about 1000', () => {
    expect(choosePieceLength(1_000_000)).toBe(16 * 1024);
    expect(choosePieceLength(100 * 1024 * 1024)).toBe(128 * 1024);
  });

  const info = { length: 10, name: 'a.txt', 'piece length': 16384, pieces: Buffer.alloc(20) };
  it.each([
    ['not bencoded at all', Buffer.from('hello'), /not a valid .torrent file/],
    ['a list instead of a dictionary', encode([1, 2]), /expected a bencoded dictionary/],
    ['no info', encode({ announce: 'x' }), /no 'info' dictionary/],
    ['a multi-file torrent', encode({ announce: 'x', info: { ...info, files: [] } }), /multi-file/],
    [
      'a path as the name',
      encode({ announce: 'x', info: { ...info, name: '../../etc/passwd' } }),
      /unsafe file name/,
    ],
    [
      'pieces of the wrong length',
      encode({ announce: 'x', info: { ...info, pieces: Buffer.alloc(19) } }),
      /'pieces' holds 19 bytes/,
    ],
    [
      'a tiny piece length',
      encode({ announce: 'x', info: { ...info, 'piece length': 1 } }),
      /piece length 1 is outside/,
    ],
    ['a bencode bomb', Buffer.from(`d4:info${'l'.repeat(50_000)}`), /nesting deeper/],
  ])('refuses %s with a message that says why', (_name, bytes, message) => {
    expect(() => parseMetainfo(bytes, 'bad.torrent')).toThrow(message);
  });
});
