/**
 * The chain: every block this node knows, the best chain among them (the most cumulative work, not
 * the most blocks: Bitcoin's rule), the UTXO set at its tip, and the mempool.
 *
 * A block is fully checked before it is stored, even on a side branch: the UTXO set of its parent is
 * rebuilt in a view (undo the best chain down to the fork, then apply the branch). So a bad block
 * never reaches the disk, and switching to a heavier branch (a reorg) cannot fail half-way.
 */
import { EventEmitter } from 'node:events';
import { Block, type Transaction } from 'bitcoinjs-lib';
import { Mempool, type PoolTx } from './mempool.js';
import { BLOCK_REWARD, type ChainParams, genesisBlock, MAX_BLOCK_BYTES, workOf } from './params.js';
import { BlockStore } from './store.js';
import { coinbaseTx } from './tx.js';
import { type SpentCoin, type Utxo, UtxoView } from './utxo.js';
import { ConsensusError, checkBlockSanity, connectBlock, disconnectBlock, parseBlock } from './validate.js';

export interface BlockEntry {
  /** The block id: its hash byte-reversed, in hex, as explorers and Bitcoin Core print it. */
  id: string;
  prev: string;
  height: number;
  /** Cumulative work up to and including this block (expected hashes). */
  work: bigint;
  block: Block;
  raw: Buffer;
  undo: SpentCoin[];
  /** Where the block sits in the store (-1 for genesis, which is not stored). */
  offset: number;
  received: number;
}

export type AcceptStatus = 'accepted' | 'duplicate' | 'orphan' | 'invalid';

export interface AcceptResult {
  status: AcceptStatus;
  id: string;
  reason?: string;
  /** Whether the best chain changed; with the blocks it dropped and took on (a reorg drops some). */
  tipChanged?: boolean;
  disconnected?: string[];
  connected?: string[];
}

const MAX_ORPHANS = 100;
const MAX_INVALID = 10_000;
const idOf = (hash: Uint8Array): string => Buffer.from(hash).reverse().toString('hex');

export class Chain extends EventEmitter {
  readonly entries = new Map<string, BlockEntry>();
  /** The best chain, by height. */
  readonly best: BlockEntry[] = [];
  readonly utxo = new Map<string, Utxo>();
  readonly mempool = new Mempool();
  /** Blocks whose parent we lack, by parent id: kept until the parent comes (bounded). */
  readonly orphans = new Map<string, { raw: Buffer; stored?: number }[]>();
  /** Blocks we refused, with why (never stored; a peer sending them again is misbehaving). */
  readonly invalid = new Map<string, string>();
  /** Stored blocks that no longer verify on load (a tampered copy), with why. */
  readonly broken: { id: string; reason: string }[] = [];
  private orphanCount = 0;

  constructor(
    readonly params: ChainParams,
    private readonly store?: BlockStore,
  ) {
    super();
    const genesis = genesisBlock();
    const raw = Buffer.from(genesis.toBuffer());
    const entry: BlockEntry = {
      id: genesis.getId(),
      prev: idOf(genesis.prevHash as Uint8Array),
      height: 0,
      work: workOf(genesis.bits),
      block: genesis,
      raw,
      undo: [],
      offset: -1,
      received: 0,
    };
    this.entries.set(entry.id, entry);
    this.best.push(entry);
    // Bitcoin's genesis coinbase is famously unspendable: it never enters the UTXO set.
    if (store) {
      for (const stored of store.blocks) {
        const result = this.accept(stored.raw, { stored: stored.offset });
        if (result.status === 'invalid') this.broken.push({ id: result.id, reason: result.reason ?? '' });
      }
    }
  }

  /** Opens the chain stored in `dir` (replaying and re-checking every stored block). */
  static open(dir: string, params: ChainParams): Chain {
    return new Chain(params, new BlockStore(dir));
  }

  get tip(): BlockEntry {
    return this.best[this.best.length - 1] as BlockEntry;
  }

  get height(): number {
    return this.tip.height;
  }

  get storeRepairs(): readonly string[] {
    return this.store?.repairs ?? [];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Takes a block from a peer, the miner or the store. Returns what became of it; emits 'tip' when
   * the best chain changed.
   */
  accept(raw: Buffer, opts: { stored?: number } = {}): AcceptResult {
    let block: Block;
    let id = '?';
    try {
      if (raw.length >= 80) id = idOf(Block.fromBuffer(raw.subarray(0, 80)).getHash());
      if (this.entries.has(id)) return { status: 'duplicate', id };
      const known = this.invalid.get(id);
      if (known) return { status: 'invalid', id, reason: known };
      block = parseBlock(raw);
      checkBlockSanity(block, this.params);
    } catch (err) {
      return this.refuse(id, err);
    }
    const prev = idOf(block.prevHash as Uint8Array);
    const parent = this.entries.get(prev);
    if (!parent) {
      if (this.invalid.has(prev)) return this.refuse(id, new ConsensusError(`its parent ${prev} is invalid`));
      this.addOrphan(prev, raw, opts.stored);
      return { status: 'orphan', id };
    }
    const height = parent.height + 1;
    let undo: SpentCoin[];
    let view: UtxoView;
    try {
      view = this.viewAt(parent);
      undo = connectBlock(block, view, height, this.params);
    } catch (err) {
      return this.refuse(id, err);
    }
    const offset = opts.stored ?? (this.store ? this.store.append(raw).offset : -1);
    const entry: BlockEntry = {
      id,
      prev,
      height,
      work: parent.work + workOf(block.bits),
      block,
      raw,
      undo,
      offset,
      received: Date.now(),
    };
    this.entries.set(id, entry);
    const result: AcceptResult = { status: 'accepted', id, tipChanged: false };
    if (entry.work > this.tip.work) {
      // The common case, a block on our tip: the view that checked it is the new UTXO set.
      if (parent === this.tip) {
        view.commitTo(this.utxo);
        this.best.push(entry);
        this.mempool.rebuild([], this.utxo, this.height, this.params);
        this.emit('tip', this.tip, []);
        Object.assign(result, { tipChanged: true, disconnected: [], connected: [id] });
      } else {
        Object.assign(result, this.switchTo(entry), { tipChanged: true });
      }
    }
    this.emit('block', entry, result);
    // Orphans waiting for this block can now be taken.
    const waiting = this.orphans.get(id);
    if (waiting) {
      this.orphans.delete(id);
      this.orphanCount -= waiting.length;
      // Those read from the store keep their place there: taken again, they are not appended again.
      for (const o of waiting) this.accept(o.raw, o.stored !== undefined ? { stored: o.stored } : {});
    }
    return result;
  }

  private refuse(id: string, err: unknown): AcceptResult {
    if (!(err instanceof ConsensusError)) throw err;
    if (id !== '?' && !err.mutated) {
      this.invalid.set(id, err.message);
      // Bounded: a peer sending junk forever must not grow our memory forever (oldest forgotten first).
      if (this.invalid.size > MAX_INVALID) this.invalid.delete(this.invalid.keys().next().value as string);
    }
    return { status: 'invalid', id, reason: err.message };
  }

  private addOrphan(parent: string, raw: Buffer, stored?: number): void {
    if (this.orphanCount >= MAX_ORPHANS) {
      const first = this.orphans.keys().next().value as string;
      this.orphanCount -= this.orphans.get(first)?.length ?? 0;
      this.orphans.delete(first);
    }
    const list = this.orphans.get(parent) ?? [];
    list.push(stored !== undefined ? { raw, stored } : { raw });
    this.orphans.set(parent, list);
    this.orphanCount += 1;
  }

  /** The branch from the fork point with the best chain (excluded) up to `entry`. */
  private branchTo(entry: BlockEntry): { fork: BlockEntry; branch: BlockEntry[] } {
    const branch: BlockEntry[] = [];
    let at: BlockEntry | undefined = entry;
    while (at && this.best[at.height]?.id !== at.id) {
      branch.unshift(at);
      at = this.entries.get(at.prev);
    }
    if (!at) throw new Error('a block without a path to genesis');
    return { fork: at, branch };
  }

  /** The UTXO set as it was after `entry`, in a view over the real set. */
  private viewAt(entry: BlockEntry): UtxoView {
    const view = new UtxoView(this.utxo);
    const { fork, branch } = this.branchTo(entry);
    for (let h = this.height; h > fork.height; h--) {
      const e = this.best[h] as BlockEntry;
      disconnectBlock(e.block, view, e.undo);
    }
    // The branch's blocks were fully checked when they came: their signatures need no second look.
    for (const e of branch) connectBlock(e.block, view, e.height, this.params, false);
    return view;
  }

  /** Makes `entry` the tip: undo the best chain to the fork, apply the branch (both already checked). */
  private switchTo(entry: BlockEntry): { disconnected: string[]; connected: string[] } {
    const { fork, branch } = this.branchTo(entry);
    const view = new UtxoView(this.utxo);
    const disconnected: string[] = [];
    const returned: Transaction[] = [];
    while (this.height > fork.height) {
      const e = this.best.pop() as BlockEntry;
      disconnectBlock(e.block, view, e.undo);
      disconnected.push(e.id);
      returned.push(...(e.block.transactions ?? []).slice(1));
    }
    for (const e of branch) {
      connectBlock(e.block, view, e.height, this.params, false);
      this.best.push(e);
    }
    view.commitTo(this.utxo);
    // Transactions of dropped blocks go back to the pool, unless the new branch spent their inputs.
    this.mempool.rebuild(returned, this.utxo, this.height, this.params);
    this.emit('tip', this.tip, disconnected);
    return { disconnected, connected: branch.map((e) => e.id) };
  }

  /** Takes a transaction into the mempool, or throws a ConsensusError saying why not. */
  acceptTx(tx: Transaction): PoolTx {
    const entry = this.mempool.accept(tx, this.utxo, this.height, this.params);
    this.emit('tx', entry);
    return entry;
  }

  /** A block to mine on the tip: the coinbase paying `payTo`, then the mempool, nonce 0. */
  template(payTo: Uint8Array, time = Math.floor(Date.now() / 1000), extra?: Uint8Array): Block {
    const txs: Transaction[] = [];
    let size = 1000;
    let fees = 0n;
    for (const p of this.mempool.txs.values()) {
      if (size + p.size > MAX_BLOCK_BYTES) break;
      txs.push(p.tx);
      size += p.size;
      fees += p.fee;
    }
    const block = new Block();
    block.version = 0x20000000;
    block.prevHash = Buffer.from(this.tip.id, 'hex').reverse();
    block.timestamp = Math.max(time, this.tip.block.timestamp + 1);
    block.bits = this.params.bits;
    block.nonce = 0;
    block.transactions = [coinbaseTx(this.height + 1, payTo, BLOCK_REWARD + fees, extra), ...txs];
    block.merkleRoot = Block.calculateMerkleRoot(block.transactions);
    return block;
  }

  /**
   * A block locator (Bitcoin's CBlockLocator): ids of the tip, then stepping back 1, 2, 4, ... blocks,
   * ending with genesis, so a peer finds the last block we share in O(log n) entries.
   */
  locator(): string[] {
    const ids: string[] = [];
    let step = 1;
    for (let h = this.height; h > 0; h -= step) {
      ids.push((this.best[h] as BlockEntry).id);
      if (ids.length >= 10) step *= 2;
    }
    ids.push((this.best[0] as BlockEntry).id);
    return ids;
  }

  /** Headers after the first locator id on our best chain, up to `stop` or `max` (getheaders). */
  headersAfter(locator: readonly string[], stop: string, max = 2000): BlockEntry[] {
    let start = 0;
    for (const id of locator) {
      const e = this.entries.get(id);
      if (e && this.best[e.height]?.id === id) {
        start = e.height;
        break;
      }
    }
    const out: BlockEntry[] = [];
    for (let h = start + 1; h <= this.height && out.length < max; h++) {
      const e = this.best[h] as BlockEntry;
      out.push(e);
      if (e.id === stop) break;
    }
    return out;
  }

  /** Unspent outputs paying `script` (the wallet's coins): on the best chain and in the pool, minus what the pool spends. */
  coinsOf(script: Buffer): { txid: string; vout: number; value: bigint; script: Buffer; height: number }[] {
    const pending = new Set<string>();
    for (const p of this.mempool.txs.values()) {
      for (const i of p.tx.ins) pending.add(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`);
    }
    const coins = [];
    for (const [key, coin] of this.utxo) {
      if (pending.has(key) || !coin.script.equals(script)) continue;
      const [txid, vout] = key.split(':') as [string, string];
      coins.push({ txid, vout: Number(vout), value: coin.value, script: coin.script, height: coin.height });
    }
    // Outputs of waiting transactions count too (the change of a payment not yet mined).
    for (const p of this.mempool.txs.values()) {
      p.tx.outs.forEach((out, vout) => {
        const key = `${p.id}:${vout}`;
        if (pending.has(key) || !Buffer.from(out.script).equals(script)) return;
        coins.push({ txid: p.id, vout, value: BigInt(out.value), script, height: this.height + 1 });
      });
    }
    return coins.sort((a, b) => a.height - b.height);
  }

  /**
   * `portlab chain tamper`: adds one coin to the first output of the block at `height` in our own
   * stored copy. The header is unchanged, so the block keeps its hash and proof of work, but its
   * Merkle root no longer matches its transactions: verify() finds it, and peers refuse it.
   */
  tamper(height: number): { id: string; before: bigint; after: bigint } {
    const entry = this.best[height];
    if (!entry || height === 0)
      throw new Error(`no block at height ${height} to tamper with (1..${this.height})`);
    const block = Block.fromBuffer(entry.raw);
    const tx = block.transactions?.[block.transactions.length - 1];
    const out = tx?.outs[0];
    if (!tx || !out) throw new Error('no output to change');
    const before = BigInt(out.value);
    out.value = before + 100_000_000n;
    const raw = Buffer.from(block.toBuffer());
    this.store?.overwrite(Buffer.from(entry.id, 'hex').reverse().toString('hex'), raw);
    entry.raw = raw;
    return { id: entry.id, before, after: before + 100_000_000n };
  }

  /**
   * Re-checks the best chain from what is stored: each block's hash meets the target, links to the
   * previous one, its Merkle root matches, its transactions spend what exists with valid signatures.
   * Returns the first height where it breaks, with why.
   */
  verify(): {
    ok: boolean;
    height: number;
    checked: number;
    breaks?: { height: number; id: string; reason: string };
  } {
    const view = new UtxoView(new Map());
    let prev = (this.best[0] as BlockEntry).id;
    for (let h = 1; h <= this.height; h++) {
      const e = this.best[h] as BlockEntry;
      const raw: Buffer = (e.offset >= 0 && this.store?.readBack(e.offset)) || e.raw;
      try {
        const block = parseBlock(raw);
        if (idOf(block.prevHash as Uint8Array) !== prev)
          throw new ConsensusError(`its previous hash is not block ${h - 1}'s`);
        checkBlockSanity(block, this.params);
        connectBlock(block, view, h, this.params);
        prev = block.getId();
      } catch (err) {
        if (!(err instanceof ConsensusError)) throw err;
        return {
          ok: false,
          height: this.height,
          checked: h - 1,
          breaks: { height: h, id: e.id, reason: err.message },
        };
      }
    }
    return { ok: true, height: this.height, checked: this.height };
  }

  close(): void {
    this.store?.close();
  }
}
