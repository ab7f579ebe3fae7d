/**
 * Block storage in Bitcoin Core's own blk*.dat layout: each record is the network magic, the block's
 * length (4 bytes, little-endian), then the raw block. An index file holds one 40-byte entry per
 * record (block hash, offset), so a restart finds the blocks without parsing them all.
 *
 * Both files are appended and fsync'd, data first: an index entry never points past stored bytes.
 * A crash can leave a torn record at the end of either file; opening finds it and cuts it.
 */

import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { MAGIC } from './params.js';

const INDEX_ENTRY = 40;

export interface StoredBlock {
  /** The block hash in internal byte order (as hashed), hex. */
  hash: string;
  offset: number;
  raw: Buffer;
}

const blockHash = (raw: Buffer): string =>
  createHash('sha256')
    .update(createHash('sha256').update(raw.subarray(0, 80)).digest())
    .digest('hex');

export class BlockStore {
  private readonly data: number;
  private readonly index: number;
  private dataSize: number;
  /** What opening found and repaired, for the log. */
  readonly repairs: string[] = [];
  readonly blocks: StoredBlock[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.data = openSync(path.join(dir, 'blk00000.dat'), 'a+');
    this.index = openSync(path.join(dir, 'blocks.idx'), 'a+');
    this.dataSize = fstatSync(this.data).size;
    this.load();
  }

  private read(fd: number, offset: number, length: number): Buffer {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  }

  /** Reads the record at `offset`, or undefined if it is torn or not a record. */
  private recordAt(offset: number): Buffer | undefined {
    const head = this.read(this.data, offset, 8);
    if (head.length < 8 || !head.subarray(0, 4).equals(MAGIC)) return undefined;
    const length = head.readUInt32LE(4);
    if (length < 80 || offset + 8 + length > this.dataSize) return undefined;
    return this.read(this.data, offset + 8, length);
  }

  private load(): void {
    const indexSize = fstatSync(this.index).size;
    let good = 0;
    let dataEnd = 0;
    const entries = this.read(this.index, 0, indexSize);
    for (let at = 0; at + INDEX_ENTRY <= entries.length; at += INDEX_ENTRY) {
      const hash = entries.subarray(at, at + 32).toString('hex');
      const offset = Number(entries.readBigUInt64LE(at + 32));
      const raw = offset === dataEnd ? this.recordAt(offset) : undefined;
      if (!raw || blockHash(raw) !== hash) break;
      this.blocks.push({ hash, offset, raw });
      good = at + INDEX_ENTRY;
      dataEnd = offset + 8 + raw.length;
    }
    if (good !== indexSize) {
      this.repairs.push(`index: cut ${indexSize - good} byte(s) after entry ${good / INDEX_ENTRY}`);
      ftruncateSync(this.index, good);
      fsyncSync(this.index);
    }
    // Records written after the last index entry (a crash between the two fsyncs) are complete blocks:
    // index them again. Anything else at the end is a torn write.
    for (let raw = this.recordAt(dataEnd); raw; raw = this.recordAt(dataEnd)) {
      const entry = { hash: blockHash(raw), offset: dataEnd, raw };
      this.writeIndex(entry);
      this.blocks.push(entry);
      this.repairs.push(`index: re-indexed block at offset ${dataEnd}`);
      dataEnd += 8 + raw.length;
    }
    if (dataEnd !== this.dataSize) {
      this.repairs.push(
        `blocks: cut a torn write of ${this.dataSize - dataEnd} byte(s) at offset ${dataEnd}`,
      );
      ftruncateSync(this.data, dataEnd);
      fsyncSync(this.data);
      this.dataSize = dataEnd;
    }
  }

  private writeIndex(entry: StoredBlock): void {
    const rec = Buffer.alloc(INDEX_ENTRY);
    Buffer.from(entry.hash, 'hex').copy(rec, 0);
    rec.writeBigUInt64LE(BigInt(entry.offset), 32);
    writeSync(this.index, rec);
    fsyncSync(this.index);
  }

  /** Appends a block; returns once it and its index entry are on disk. */
  append(raw: Buffer): StoredBlock {
    const head = Buffer.alloc(8);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(raw.length, 4);
    const entry = { hash: blockHash(raw), offset: this.dataSize, raw };
    writeSync(this.data, Buffer.concat([head, raw]));
    fsyncSync(this.data);
    this.dataSize += 8 + raw.length;
    this.writeIndex(entry);
    this.blocks.push(entry);
    return entry;
  }

  /**
   * Overwrites the stored bytes of a block with `raw` of the same length: only `portlab chain tamper`
   * does this, to show that a changed copy no longer verifies.
   */
  overwrite(hash: string, raw: Buffer): void {
    const entry = this.blocks.find((b) => b.hash === hash);
    if (!entry || entry.raw.length !== raw.length) throw new Error('no stored block of that hash and length');
    const fd = openSync(path.join(this.dir, 'blk00000.dat'), 'r+');
    try {
      writeSync(fd, raw, 0, raw.length, entry.offset + 8);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    entry.raw = raw;
  }

  /** Re-reads a block's bytes from disk (verify reads what is stored, not what memory remembers). */
  readBack(offset: number): Buffer | undefined {
    return this.recordAt(offset);
  }

  close(): void {
    closeSync(this.data);
    closeSync(this.index);
  }
}
