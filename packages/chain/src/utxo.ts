/**
 * The UTXO set: every output not yet spent, keyed "txid:vout". It is the whole state a node needs to
 * check a new transaction (Bitcoin Core's chainstate). A view layers changes over it, so a block on
 * another branch can be checked without touching the real set, and a reorg can be undone.
 */

export interface Utxo {
  value: bigint;
  script: Buffer;
  height: number;
  coinbase: boolean;
}

/** An output a block spent, kept to undo the block in a reorg (Bitcoin Core's rev*.dat). */
export interface SpentCoin {
  key: string;
  coin: Utxo;
}

export const outpointKey = (txid: string, vout: number): string => `${txid}:${vout}`;

/** What a view reads through: the UTXO set, or the set plus the mempool's outputs. */
export interface CoinSource {
  get(key: string): Utxo | undefined;
  has(key: string): boolean;
}

export class UtxoView {
  private readonly added = new Map<string, Utxo>();
  private readonly removed = new Set<string>();

  constructor(private readonly base: CoinSource) {}

  get(key: string): Utxo | undefined {
    if (this.removed.has(key)) return undefined;
    return this.added.get(key) ?? this.base.get(key);
  }

  spend(key: string): void {
    this.added.delete(key);
    if (this.base.has(key)) this.removed.add(key);
  }

  add(key: string, coin: Utxo): void {
    this.removed.delete(key);
    this.added.set(key, coin);
  }

  /** Writes the changes into `set` (the base this view was made over). */
  commitTo(set: Map<string, Utxo>): void {
    for (const key of this.removed) set.delete(key);
    for (const [key, coin] of this.added) set.set(key, coin);
  }
}
