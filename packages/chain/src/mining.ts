/**
 * A mining job: `blocks` blocks (or until stopped) on the node's tip, paying `payTo`. The hashing runs
 * in a worker thread (pow.ts Miner); when another node's block becomes our tip first, the current
 * work is worthless (it builds on an old tip) and the job starts again on the new one.
 */
import { EventEmitter } from 'node:events';
import type { Chain } from './chain.js';
import { Miner } from './pow.js';

export interface MiningStatus {
  running: boolean;
  target: number;
  found: number;
  /** Hashes tried since the job started, and per second. */
  hashes: number;
  rate: number;
  started: number;
  lastError?: string;
}

export class Mining extends EventEmitter {
  private readonly miner = new Miner();
  private job: { target: number; found: number; hashes: number; started: number; stop: boolean } | undefined;
  private last: MiningStatus | undefined;

  constructor(
    private readonly chain: Chain,
    private readonly payTo: () => Uint8Array,
  ) {
    super();
    chain.on('tip', () => {
      // A new tip we did not mine: drop the work on the old one.
      if (this.job && this.miner.busy) {
        this.miner.stop();
      }
    });
  }

  status(): MiningStatus {
    if (!this.job)
      return this.last ?? { running: false, target: 0, found: 0, hashes: 0, rate: 0, started: 0 };
    const hashes = this.job.hashes + this.miner.progress;
    const secs = (Date.now() - this.job.started) / 1000;
    return {
      running: true,
      target: this.job.target,
      found: this.job.found,
      hashes,
      rate: secs > 0 ? Math.round(hashes / secs) : 0,
      started: this.job.started,
    };
  }

  /** Starts mining `blocks` blocks (0: until stopped). Resolves when the job ends. */
  async start(blocks = 0): Promise<MiningStatus> {
    if (this.job) throw new Error('already mining');
    const job = { target: blocks, found: 0, hashes: 0, started: Date.now(), stop: false };
    this.job = job;
    try {
      while (!job.stop && (blocks === 0 || job.found < blocks)) {
        const template = this.chain.template(this.payTo());
        const r = await this.miner.mine(template);
        job.hashes += r.hashes;
        if (!r.block) continue; // stopped: a new tip, or the end of the job
        const result = this.chain.accept(Buffer.from(r.block.toBuffer()));
        if (result.status === 'accepted') {
          job.found += 1;
          this.emit('found', result.id);
        }
      }
    } finally {
      this.last = { ...this.status(), running: false };
      this.job = undefined;
    }
    return this.last;
  }

  stop(): void {
    if (!this.job) return;
    this.job.stop = true;
    this.miner.stop();
  }
}
