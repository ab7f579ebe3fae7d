/**
 * The file a torrent describes, on disk. Pieces are written only after their SHA-1 matched, so
 * whatever is on disk is either a verified piece or not counted: resuming is re-hashing the file
 * at start (`verify`) and keeping the pieces that match.
 */
import { readSync, writeSync, writevSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Bitfield } from './bitfield.js';
import { type Metainfo, pieceSize, sha1 } from './metainfo.js';

/** Pieces recently read for upload: a peer asks for a piece block by block, so read it once. */
const CACHE_BYTES = 16 * 1024 * 1024;

/**
 * A piece read for upload. Its buffer is used again for another piece once it has left the cache
 * and no socket still holds one of its blocks: a fresh buffer per piece would cost page faults and
 * garbage collections (at hundreds of MB/s, more than the read itself).
 */
class CachedPiece {
  /** Blocks handed to sockets and not yet sent. */
  sending = 0;
  evicted = false;
  readonly data: Buffer;

  /** @param buffer room for a whole piece (any piece: the last one may be shorter) */
  constructor(
    readonly buffer: Buffer,
    size: number,
  ) {
    this.data = buffer.subarray(0, size);
  }
}

/** A block to upload; call `sent` once the socket has sent it (or given up). */
export interface UploadBlock {
  data: Buffer;
  sent: () => void;
}

export class FileStorage {
  private readonly cache = new Map<number, CachedPiece>();
  /** Buffers of evicted pieces that no socket sends any more: the next reads go into them. */
  private readonly spare: Buffer[] = [];

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
  read(index: number, begin: number, length: number): UploadBlock {
    const piece = this.cache.get(index) ?? this.readPiece(index);
    piece.sending++;
    return {
      data: piece.data.subarray(begin, begin + length),
      sent: () => {
        piece.sending--;
        this.recycle(piece);
      },
    };
  }

  /**
   * Writes a verified piece, given as its blocks in order, in one positional `writev`: the blocks go
   * from where they were received to the page cache, never gathered into one buffer first. Once this
   * returns, `read` finds the piece (in the page cache): peers told we have it may ask at once.
   */
  write(index: number, blocks: Buffer[]): void {
    const at = index * this.meta.pieceLength;
    const size = blocks.reduce((sum, block) => sum + block.length, 0);
    const written = writevSync(this.handle.fd, blocks, at);
    // A short write (the disk just filled up): write the rest, which throws the disk's error.
    if (written < size) this.writeAll(Buffer.concat(blocks).subarray(written), at + written);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private remember(index: number, piece: CachedPiece): void {
    this.cache.set(index, piece);
    if (this.cache.size * this.meta.pieceLength > CACHE_BYTES) {
      const [oldest, evicted] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      evicted.evicted = true;
      this.recycle(evicted);
    }
  }

  /** Keeps the buffer of a piece no longer cached nor sent for the next read (up to CACHE_BYTES of them). */
  private recycle(piece: CachedPiece): void {
    if (!piece.evicted || piece.sending > 0) return;
    if (this.spare.length * this.meta.pieceLength < CACHE_BYTES) this.spare.push(piece.buffer);
  }

  private writeAll(data: Buffer, at: number): void {
    for (let done = 0; done < data.length; ) {
      done += writeSync(this.handle.fd, data, done, data.length - done, at + done);
    }
  }

  /** Reads a piece into the cache. */
  private readPiece(index: number): CachedPiece {
    // Not zero-filled: every byte is read from the file, or the read fails below.
    const piece = new CachedPiece(
      this.spare.pop() ?? Buffer.allocUnsafe(this.meta.pieceLength),
      pieceSize(this.meta, index),
    );
    const read = readSync(this.handle.fd, piece.data, 0, piece.data.length, index * this.meta.pieceLength);
    if (read !== piece.data.length) {
      throw new Error(`${this.file} is shorter than its torrent says (piece ${index} is cut off)`);
    }
    this.remember(index, piece);
    return piece;
  }
}
