import type { CachedHeader, HeaderCache } from './header-cache.js';
import { messageHeaderFields, type Section } from './mime/section.js';
import { headerEnd } from './mime/structure.js';
import { COPIED_LITERAL_BYTES } from './response.js';
import type { StoredFolder, StoredMessage } from './storage.js';

/**
 * Reads messages of a folder for FETCH and SEARCH: the whole bytes, or only the header (from the
 * header cache when it has it). Messages are read BATCH at a time (see inBatches).
 */
export const BATCH = 32;

/** Bytes read first when only the header is wanted (a message of 20 KB costs a 4 KB read). */
const HEADER_GUESS = 4096;

export class MessageLoader {
  constructor(
    private readonly folder: StoredFolder,
    private readonly cache: HeaderCache,
  ) {}

  /** The whole message (read into `into` if given: see ReadBuffers); its header is cached on the way. */
  async bytes(message: StoredMessage, into?: Buffer): Promise<Buffer> {
    const bytes = await this.folder.read(message.uid, into);
    this.cache.set(message.id, bytes.subarray(0, headerEnd(bytes)));
    return bytes;
  }

  /**
   * The whole message read at once, without waiting (StoredFolder.readNow), if it is at most
   * `maxSize` bytes; else undefined, and bytes() reads it. Its header is cached as bytes() does.
   * Read into `into` if given and large enough (size + 1 bytes: see BatchMemory).
   */
  bytesNow(message: StoredMessage, maxSize: number, into?: Buffer): Buffer | undefined {
    if (message.size > maxSize) return undefined;
    const bytes = this.folder.readNow(message.uid, maxSize, into);
    if (bytes) this.cache.set(message.id, bytes.subarray(0, headerEnd(bytes)));
    return bytes;
  }

  /** The header if the cache has it (no waiting), else undefined. */
  cachedHeader(message: StoredMessage): CachedHeader | undefined {
    return this.cache.get(message.id);
  }

  async header(message: StoredMessage): Promise<CachedHeader> {
    const cached = this.cache.get(message.id);
    if (cached) return cached;
    // Most headers fit in the first few KB: read those, and the whole message only if they do not.
    let bytes = await this.folder.readStart(message.uid, HEADER_GUESS);
    if (bytes.length === HEADER_GUESS && headerEnd(bytes) === bytes.length)
      bytes = await this.folder.read(message.uid);
    return this.cache.set(message.id, bytes.subarray(0, headerEnd(bytes)));
  }

  /**
   * BODY[HEADER.FIELDS (...)] of the message itself (see messageFieldsOnly), `name` being the
   * section's name without its partial range: made from the header once, then kept beside it.
   */
  headerFields(header: CachedHeader, section: Section, name: string): Buffer {
    if (header.fields?.name === name) return header.fields.bytes;
    const bytes = messageHeaderFields(header.header, section);
    this.cache.setFields(header, name, bytes);
    return bytes;
  }
}

/**
 * Goes through `items` BATCH at a time, in order: `load` starts the reads of a batch (a value
 * known at once, such as a cached header, needs no waiting; `batch` counts the batches, for a
 * budget of work done at once per batch), `answer` gets the batch with what was
 * loaded. The next batch is read while the current one is answered, so the disk and the client
 * are kept busy together; at most two batches are in memory.
 */
export async function inBatches<T, L>(
  items: readonly T[],
  load: (item: T, batch: number) => L | Promise<L>,
  answer: (batch: T[], loaded: L[]) => Promise<void>,
): Promise<void> {
  const start = (from: number) => {
    const batch = items.slice(from, from + BATCH);
    const loads = batch.map((item) => {
      const loading = load(item, from / BATCH);
      // Looked at later, with the rest of its batch: until then a failure must not count as unhandled.
      if (loading instanceof Promise) loading.catch(() => undefined);
      return loading;
    });
    return { batch, loads };
  };
  let next = start(0);
  for (let from = 0; from < items.length; from += BATCH) {
    const { batch, loads } = next;
    if (from + BATCH < items.length) next = start(from + BATCH);
    const waiting = loads.some((l) => l instanceof Promise);
    await answer(batch, waiting ? await Promise.all(loads) : (loads as L[]));
  }
}

/**
 * Memory to read the small messages of a batch into (FETCH), one piece of it for each batch
 * inBatches may have in flight (two), used again two batches later, when the batch that used it
 * has been answered. A message goes in only if its answer copies it (see COPIED_LITERAL_BYTES):
 * once untagged() has returned nothing looks at its bytes there again. A FETCH of 100 bodies of
 * 11 KB read each into a new buffer: 1.1 MB of fresh memory per FETCH, whose page faults and
 * garbage collections cost more than reading (issue #20). The pieces go back to a pool of
 * POOLED_PIECES for the next FETCH of any session: at most that many × `pieceBytes` kept.
 */
export class BatchMemory {
  private readonly pieces: (Buffer | undefined)[] = [undefined, undefined];
  private batch = -1;
  private used = 0;

  constructor(private readonly pieceBytes: number) {}

  /**
   * Room for a message of `size` bytes of batch number `batch`, and the one byte more a read asks
   * (readKnownSizeNow); undefined when it is too large to copy, or the batch's piece is full.
   */
  take(batch: number, size: number): Buffer | undefined {
    if (size > COPIED_LITERAL_BYTES) return undefined;
    if (batch !== this.batch) {
      this.batch = batch;
      this.used = 0;
    }
    const slot = batch % 2;
    const piece = this.pieces[slot] ?? takePiece(this.pieceBytes);
    this.pieces[slot] = piece;
    if (this.used + size + 1 > piece.length) return undefined;
    const room = piece.subarray(this.used, this.used + size + 1);
    this.used += size + 1;
    return room;
  }

  /** The command is done with the bytes: the pieces go back to the pool. */
  release(): void {
    for (const piece of this.pieces)
      if (piece && piece.length === this.pieceBytes && pool.length < POOLED_PIECES) pool.push(piece);
    this.pieces.fill(undefined);
  }
}

const POOLED_PIECES = 2;
const pool: Buffer[] = [];

function takePiece(bytes: number): Buffer {
  const i = pool.findIndex((piece) => piece.length === bytes);
  return i === -1 ? Buffer.allocUnsafe(bytes) : pool.splice(i, 1)[0]!;
}

/**
 * The size of a read buffer: a text message fits; a larger one (an attachment, most often) is
 * read into a buffer of its own.
 */
const READ_BUFFER_BYTES = 32 * 1024;

/**
 * Buffers to read messages into when their bytes are not kept (SEARCH), one for each message
 * inBatches may have in flight (two batches), used again batch after batch. A SEARCH TEXT of
 * 10,000 messages then makes 64 buffers (2 MB) rather than 10,000 (110 MB left to the garbage
 * collector, and the full collections that much memory brings).
 */
export class ReadBuffers {
  private readonly buffers: Buffer[] = [];

  /**
   * The buffer of the n-th item handed to inBatches. Item n + 2 × BATCH shares it: its batch
   * starts only once the batch of item n is answered, and so done with its bytes.
   */
  of(n: number): Buffer {
    const slot = n % (2 * BATCH);
    this.buffers[slot] ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return this.buffers[slot];
  }
}
