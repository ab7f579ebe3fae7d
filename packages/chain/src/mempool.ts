/**
 * The mempool: transactions checked and waiting for a block. It refuses a double spend: an output
 * already spent by a waiting transaction cannot be spent again (first seen wins, as in Bitcoin Core
 * without replace-by-fee).
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ChainParams } from './params.js';
import { outpointKey, type Utxo, UtxoView } from './utxo.js';
import { ConsensusError, checkTxSanity, spendInputs, txidOf } from './validate.js';

export interface PoolTx {
  tx: Transaction;
  id: string;
  fee: bigint;
  size: number;
}

const MAX_POOL = 5000;

export class Mempool {
  readonly txs = new Map<string, PoolTx>();
  /** outpoint → the waiting transaction that spends it. */
  private readonly spentBy = new Map<string, string>();
  /** The outputs of waiting transactions: a later one may spend them (a chain of unconfirmed payments). */
  private readonly outputs = new Map<string, Utxo>();

  /** Checks `tx` against the UTXO set plus the pool; adds it or throws a ConsensusError. */
  accept(
    tx: Transaction,
    utxo: ReadonlyMap<string, Utxo>,
    height: number,
    params: ChainParams,
    checkScripts = true,
  ): PoolTx {
    const id = txidOf(tx);
    if (this.txs.has(id)) throw new ConsensusError(`transaction ${id} already in the mempool`);
    if (tx.isCoinbase()) throw new ConsensusError('a coinbase only exists in a block');
    if (this.txs.size >= MAX_POOL) throw new ConsensusError('mempool full');
    checkTxSanity(tx);
    for (const input of tx.ins) {
      const key = outpointKey(Buffer.from(input.hash).reverse().toString('hex'), input.index);
      const other = this.spentBy.get(key);
      if (other) throw new ConsensusError(`double spend: ${key} is already spent by ${other} in the mempool`);
    }
    const pool = this.outputs;
    const view = new UtxoView({
      get: (k) => utxo.get(k) ?? pool.get(k),
      has: (k) => utxo.has(k) || pool.has(k),
    });
    const fee = spendInputs(tx, view, height + 1, params, undefined, checkScripts);
    const entry = { tx, id, fee, size: tx.byteLength() };
    this.txs.set(id, entry);
    for (const input of tx.ins) {
      this.spentBy.set(outpointKey(Buffer.from(input.hash).reverse().toString('hex'), input.index), id);
    }
    tx.outs.forEach((out, vout) => {
      this.outputs.set(outpointKey(id, vout), {
        value: BigInt(out.value),
        script: Buffer.from(out.script),
        height: height + 1,
        coinbase: false,
      });
    });
    return entry;
  }

  /** Empties the pool and re-accepts what still fits the new UTXO set (after a block or a reorg). */
  rebuild(extra: Transaction[], utxo: ReadonlyMap<string, Utxo>, height: number, params: ChainParams): void {
    const old = [...extra, ...[...this.txs.values()].map((p) => p.tx)];
    this.txs.clear();
    this.spentBy.clear();
    this.outputs.clear();
    for (const tx of old) {
      if (tx.isCoinbase()) continue;
      try {
        // Every one was verified when it came (pool or block): its signatures need no second look.
        this.accept(tx, utxo, height, params, false);
      } catch {
        // Mined already, or now a double spend: dropped.
      }
    }
  }
}
