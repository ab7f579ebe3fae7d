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

describe('web seeds in the metainfo (BEP 19, url-list)', () => {
  const announce = 'http://127.0.0.1:6969/announce';

  it('writes url-list outside info: the info_hash is the same with or without web seeds', async () => {
    const file = randomFile(dir, 'update.bin', 50_000);
    const plain = parseMetainfo(await createMetainfo(file, { announce }));
    const urlList = ['http://127.0.0.1:8080/updates/update.bin', 'https://mirror.test/u/'];
    const seeded = parseMetainfo(await createMetainfo(file, { announce, urlList }));
    expect(plain.urlList).toEqual([]);
    expect(seeded.urlList).toEqual(urlList);
    expect(seeded.infoHash.equals(plain.infoHash)).toBe(true);
  });

  it('reads url-list as one string or a list, and skips URLs it cannot use (ftp:, not text)', () => {
    const torrent = (urlList: unknown) =>
      Buffer.concat([
        Buffer.from('d8:announce30:http://127.0.0.1:6969/announce'),
        encode({ 'url-list': urlList }).subarray(1, -1),
        Buffer.from('4:info'),
        encode({ length: 1, name: 'x', 'piece length': 16384, pieces: Buffer.alloc(20) }),
        Buffer.from('e'),
      ]);
    expect(parseMetainfo(torrent('http://h/x')).urlList).toEqual(['http://h/x']);
    expect(parseMetainfo(torrent(['ftp://h/x', 'http://h/y', 7])).urlList).toEqual(['http://h/y']);
  });

  it('refuses to write a web seed that is not an http(s) URL', async () => {
    const file = randomFile(dir, 'two.bin', 20_000);
    await expect(createMetainfo(file, { announce, urlList: ['ftp://h/two.bin'] })).rejects.toThrow(
      /only http:\/\/ and https:\/\//,
    );
    await expect(createMetainfo(file, { announce, urlList: ['not a url'] })).rejects.toThrow(/is not a URL/);
  });
});
