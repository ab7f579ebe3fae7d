/**
 * The mempool: transactions checked and waiting for a block. It refuses a double spend: an output
 * already spent by a waiting transaction cannot be spent again (first seen wins, as in Bitcoin Core
 * without replace-by-fee).
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ChainParams } from './params.js';
import { outpointKey, type Utxo, UtxoView } from './utxo.js';
import { addOutputs, ConsensusError, checkTxSanity, spendInputs, txidOf } from './validate.js';

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

  /** Checks `tx` against the UTXO set plus the pool; adds it or throws a ConsensusError. */
  accept(tx: Transaction, utxo: ReadonlyMap<string, Utxo>, height: number, params: ChainParams): PoolTx {
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
    const view = new UtxoView(utxo);
    for (const p of this.txs.values()) addOutputs(p.tx, view, height + 1);
    const fee = spendInputs(tx, view, height + 1, params, undefined);
    const entry = { tx, id, fee, size: tx.byteLength() };
    this.txs.set(id, entry);
    for (const input of tx.ins) {
      this.spentBy.set(outpointKey(Buffer.from(input.hash).reverse().toString('hex'), input.index), id);
    }
    return entry;
  }

  /** Empties the pool and re-accepts what still fits the new UTXO set (after a block or a reorg). */
  rebuild(extra: Transaction[], utxo: ReadonlyMap<string, Utxo>, height: number, params: ChainParams): void {
    const old = [...extra, ...[...this.txs.values()].map((p) => p.tx)];
    this.txs.clear();
    this.spentBy.clear();
    for (const tx of old) {
      if (tx.isCoinbase()) continue;
      try {
        this.accept(tx, utxo, height, params);
      } catch {
        // Mined already, or now a double spend: dropped.
      }
    }
  }
}
