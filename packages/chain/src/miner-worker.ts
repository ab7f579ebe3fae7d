/** The miner's thread: searches nonces until found, stopped, or out of time (see pow.ts Miner). */
import { parentPort, workerData } from 'node:worker_threads';
import { searchNonce, targetBytes } from './pow.js';

const { header, bits, shared } = workerData as { header: Uint8Array; bits: number; shared: Int32Array };
const buf = Buffer.from(header);
const target = targetBytes(bits);
let hashes = 0;
let nonce: number | undefined;
const CHUNK = 1 << 16;
search: for (;;) {
  for (let start = 0; start < 0x1_0000_0000; start += CHUNK) {
    const r = searchNonce(buf, target, start, CHUNK, shared);
    hashes += r.tried;
    Atomics.store(shared, 1, hashes | 0);
    if (r.nonce !== undefined) {
      nonce = r.nonce;
      break search;
    }
    if (Atomics.load(shared, 0) !== 0) break search;
  }
  // All 2^32 nonces tried: a new timestamp gives new headers to try.
  buf.writeUInt32LE(buf.readUInt32LE(68) + 1, 68);
}
parentPort?.postMessage({ nonce, timestamp: buf.readUInt32LE(68), hashes });
