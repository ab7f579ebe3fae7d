/**
 * The file a torrent describes, on disk. Pieces are written only after their SHA-1 matched, so
 * whatever is on disk is either a verified piece or not counted: resuming is re-hashing the file
 * at start (`verify`) and keeping the pieces that match.
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Bitfield } from './bitfield.js';
import { type Metainfo, pieceSize, sha1 } from './metainfo.js';

/** Pieces recently read for upload: a peer asks for a piece block by block, so read it once. */
const CACHE_BYTES = 16 * 1024 * 1024;

export class FileStorage {
  private readonly cache = new Map<number, Promise<Buffer>>();
  /** Verified pieces on their way to disk, by index. */
  private readonly writing = new Map<number, Buffer>();

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly meta: Metainfo,
    private readonly created: boolean,
  ) {}

  /**
   * Opens the data file. To download, a missing file is created (sparse, at its full length);
   * to seed, the file must exist.
   */
  static async open(file: string, meta: Metainfo, create: boolean): Promise<FileStorage> {
    let handle: FileHandle;
    let created = false;
    try {
      // A seed only reads: its file may be read-only, and is never changed.
      handle = await open(file, create ? 'r+' : 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
        throw new Error(`cannot open ${file}: ${(err as Error).message}`);
      }
      await mkdir(path.dirname(file), { recursive: true });
      handle = await open(file, 'w+');
      created = true;
    }
    if (create && (await handle.stat()).size !== meta.length) await handle.truncate(meta.length);
    return new FileStorage(file, handle, meta, created);
  }

  /** Hashes every piece on disk: the pieces whose SHA-1 matches the metainfo are ours already. */
  async verify(): Promise<Bitfield> {
    const have = new Bitfield(this.meta.pieceHashes.length);
    if (this.created) return have; // a file we just made holds nothing yet
    const buffer = Buffer.alloc(this.meta.pieceLength);
    for (let index = 0; index < have.size; index++) {
      const size = pieceSize(this.meta, index);
      const { bytesRead } = await this.handle.read(buffer, 0, size, index * this.meta.pieceLength);
      if (bytesRead === size && sha1(buffer.subarray(0, size)).equals(this.meta.pieceHashes[index]!)) {
        have.set(index);
      }
    }
    return have;
  }

  async read(index: number, begin: number, length: number): Promise<Buffer> {
    const writing = this.writing.get(index);
    if (writing) return writing.subarray(begin, begin + length);
    let piece = this.cache.get(index);
    if (!piece) {
      piece = this.readPiece(index);
      this.cache.set(index, piece);
      if (this.cache.size * this.meta.pieceLength > CACHE_BYTES) {
        this.cache.delete(this.cache.keys().next().value!);
      }
    }
    return (await piece).subarray(begin, begin + length);
  }

  /**
   * Writes a verified piece. Until the disk write ends it is served from memory: a peer told we have
   * it (`have`) may ask for it at once, and must not get what the file held before (zeros).
   */
  async write(index: number, data: Buffer): Promise<void> {
    this.writing.set(index, data);
    this.cache.delete(index);
    try {
      await this.handle.write(data, 0, data.length, index * this.meta.pieceLength);
    } finally {
      this.writing.delete(index);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async readPiece(index: number): Promise<Buffer> {
    const size = pieceSize(this.meta, index);
    const buffer = Buffer.alloc(size);
    await this.handle.read(buffer, 0, size, index * this.meta.pieceLength);
    return buffer;
  }
}
