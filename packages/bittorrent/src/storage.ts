/**
 * The file a torrent describes, on disk. Pieces are written only after their SHA-1 matched, so
 * whatever is on disk is either a verified piece or not counted: resuming is re-hashing the file
 * at start (`verify`) and keeping the pieces that match.
 */
import { readSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Bitfield } from './bitfield.js';
import { type Metainfo, pieceSize, sha1 } from './metainfo.js';

/** Pieces recently read for upload: a peer asks for a piece block by block, so read it once. */
const CACHE_BYTES = 16 * 1024 * 1024;

export class FileStorage {
  private readonly cache = new Map<number, Buffer>();

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

  /**
   * A block to upload. The whole piece is read once (peers ask for a piece block by block) and
   * kept in a small cache. Reads and writes are synchronous, as nginx reads files by default: to or
   * from the page cache a piece is one memory copy, several times cheaper than a trip through
   * libuv's thread pool, which at hundreds of MB/s is where a peer's time went. The price: a disk
   * that stalls stalls this peer's connections meanwhile.
   */
  read(index: number, begin: number, length: number): Buffer {
    let piece = this.cache.get(index);
    if (!piece) {
      piece = this.readPiece(index);
      this.remember(index, piece);
    }
    return piece.subarray(begin, begin + length);
  }

  /** Writes a verified piece, and keeps it at hand: peers told we have it often ask for it at once. */
  write(index: number, data: Buffer): void {
    const at = index * this.meta.pieceLength;
    let written = 0;
    while (written < data.length) {
      written += writeSync(this.handle.fd, data, written, data.length - written, at + written);
    }
    this.remember(index, data);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private remember(index: number, piece: Buffer): void {
    this.cache.set(index, piece);
    if (this.cache.size * this.meta.pieceLength > CACHE_BYTES) {
      this.cache.delete(this.cache.keys().next().value!);
    }
  }

  private readPiece(index: number): Buffer {
    const size = pieceSize(this.meta, index);
    // Not zero-filled: every byte is read from the file, or the read fails below.
    const buffer = Buffer.allocUnsafe(size);
    const read = readSync(this.handle.fd, buffer, 0, size, index * this.meta.pieceLength);
    if (read !== size) {
      throw new Error(`${this.file} is shorter than its torrent says (piece ${index} is cut off)`);
    }
    return buffer;
  }
}
