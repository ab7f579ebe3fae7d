/**
 * Proof of work: find a nonce so that the double SHA-256 of the 80-byte header, read as a
 * little-endian 256-bit number, is at most the target (Bitcoin whitepaper §4). Nothing but trying:
 * each try costs one double SHA-256.
 */
import { hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Block } from 'bitcoinjs-lib';
import { targetFromBits } from './params.js';

/** The target as 32 bytes, little-endian, the order the hash comes out in. */
export function targetBytes(bits: number): Buffer {
  const t = targetFromBits(bits);
  return Buffer.from(t.toString(16).padStart(64, '0'), 'hex').reverse();
}

/** Whether the hash (internal byte order) is at most the target: compare from the most significant byte. */
export function meetsTarget(h: Buffer, target: Buffer): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = h[i] as number;
    const b = target[i] as number;
    if (a !== b) return a < b;
  }
  return true;
}

export const doubleSha256 = (data: Buffer): Buffer =>
  hash('sha256', hash('sha256', data, 'buffer'), 'buffer');

/**
 * Tries nonces from `start` on the header (bytes 76-79 are the nonce), at most `tries`; returns the
 * nonce found or undefined. `stop[0] !== 0` (set by another thread) ends it early.
 */
export function searchNonce(
  header: Buffer,
  target: Buffer,
  start: number,
  tries: number,
  stop?: Int32Array,
): { nonce?: number; tried: number } {
  const end = Math.min(start + tries, 0x1_0000_0000);
  for (let n = start; n < end; n++) {
    header.writeUInt32LE(n, 76);
    if (meetsTarget(doubleSha256(header), target)) return { nonce: n, tried: n - start + 1 };
    if ((n & 0xfff) === 0 && stop && Atomics.load(stop, 0) !== 0) return { tried: n - start + 1 };
  }
  return { tried: end - start };
}

/** Mines in this thread (tests with an easy target); bumps the time when the nonces run out. */
export function mineSync(block: Block): Block {
  const target = targetBytes(block.bits);
  for (;;) {
    const header = Buffer.from(block.toBuffer(true));
    const { nonce } = searchNonce(header, target, 0, 0x1_0000_0000);
    if (nonce !== undefined) {
      block.nonce = nonce;
      return block;
    }
    block.timestamp += 1;
  }
}

// Run from dist/ the worker sits next to this file; run from src/ (vitest) it is the built one.
const workerFile = import.meta.url.endsWith('.ts')
  ? new URL('../dist/miner-worker.js', import.meta.url)
  : new URL('./miner-worker.js', import.meta.url);

export interface MineResult {
  block?: Block;
  hashes: number;
  ms: number;
}

/**
 * Mining in a worker thread (miner-worker.js), so the node keeps answering peers and the API while
 * it hashes. A SharedArrayBuffer carries the stop flag and the hash counter.
 */
export class Miner {
  private worker: Worker | undefined;
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  hashes = 0;

  /** Hashes tried by the current job so far. */
  get progress(): number {
    return Atomics.load(this.shared, 1);
  }

  get busy(): boolean {
    return this.worker !== undefined;
  }

  mine(block: Block): Promise<MineResult> {
    if (this.worker) throw new Error('already mining');
    Atomics.store(this.shared, 0, 0);
    Atomics.store(this.shared, 1, 0);
    const started = performance.now();
    const worker = new Worker(workerFile, {
      workerData: { header: Buffer.from(block.toBuffer(true)), bits: block.bits, shared: this.shared },
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { nonce?: number; timestamp: number; hashes: number }) => {
        this.worker = undefined;
        this.hashes += m.hashes;
        void worker.terminate();
        if (m.nonce !== undefined) {
          block.nonce = m.nonce;
          block.timestamp = m.timestamp;
        }
        resolve({
          ...(m.nonce !== undefined ? { block } : {}),
          hashes: m.hashes,
          ms: performance.now() - started,
        });
      });
      worker.once('error', (err) => {
        this.worker = undefined;
        reject(err);
      });
    });
  }

  /** Stops the current job (a new tip arrived: the work on the old one is worthless). */
  stop(): void {
    Atomics.store(this.shared, 0, 1);
  }
}
