import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetainfo, FileStorage, type Metainfo, parseMetainfo, type UploadBlock } from '../src/index.js';
import { randomFile } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-storage-'));
const PIECE = 1024 * 1024;
/** 21 pieces, the last one short: more than the 16 MiB read cache holds, so pieces are evicted. */
const SIZE = 20 * PIECE + 1000;
const BLOCK = 16 * 1024;
let file: string;
let bytes: Buffer;
let meta: Metainfo;

beforeAll(async () => {
  file = randomFile(dir, 'big.bin', SIZE);
  bytes = readFileSync(file);
  meta = parseMetainfo(
    await createMetainfo(file, { announce: 'http://127.0.0.1:1/announce', pieceLength: PIECE }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function onDisk(index: number, length: number): Buffer {
  return bytes.subarray(index * PIECE, index * PIECE + length);
}

// Buffers are compared with `===` (a failed toBe would print megabytes).

/**
 * Reads the first block of every piece, in order, and checks it against the file before marking it
 * sent (from then on its buffer may hold another piece), unless `hold` has its index.
 */
function readAll(storage: FileStorage, hold = new Set<number>()): UploadBlock[] {
  return meta.pieceHashes.map((_, index) => {
    const block = storage.read(index, 0, Math.min(BLOCK, SIZE - index * PIECE));
    expect(block.data.equals(onDisk(index, block.data.length))).toBe(true);
    if (!hold.has(index)) block.sent();
    return block;
  });
}

describe('file storage, reading for upload', () => {
  it('serves every block as on disk, reading later pieces into the buffers of evicted ones', async () => {
    const storage = await FileStorage.open(file, meta, false);
    try {
      const blocks = readAll(storage);
      // Piece 16 evicted piece 0 from the cache; piece 17 was read into piece 0's buffer.
      expect(blocks[17]!.data.buffer === blocks[0]!.data.buffer).toBe(true);
      // The last, shorter, piece in a recycled whole-piece buffer: only its own bytes.
      expect(blocks[20]!.data.length).toBe(1000);
    } finally {
      await storage.close();
    }
  });

  it('keeps a block that a socket still sends: its buffer is reused only once it was sent', async () => {
    const storage = await FileStorage.open(file, meta, false);
    try {
      const blocks = readAll(storage, new Set([0]));
      const held = blocks[0]!;
      expect(blocks.slice(1).some((b) => b.data.buffer === held.data.buffer)).toBe(false);
      expect(held.data.equals(onDisk(0, BLOCK))).toBe(true);
      held.sent();
      // Piece 1 left the cache: read again, it goes into the buffer piece 0 just released.
      const again = storage.read(1, 0, BLOCK);
      expect(again.data.buffer === held.data.buffer).toBe(true);
      expect(again.data.equals(onDisk(1, BLOCK))).toBe(true);
    } finally {
      await storage.close();
    }
  });
});
