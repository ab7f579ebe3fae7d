/**
 * Consensus checks, in the order Bitcoin Core makes them (validation.cpp): first what a block proves
 * by itself (CheckBlock: proof of work, Merkle root, sizes, one coinbase first), then what needs the
 * chain it extends (ConnectBlock: every input spends an unspent output, with a valid signature, and the
 * coinbase claims no more than the reward plus the fees).
 */
import { Block, script as bscript, type Transaction } from 'bitcoinjs-lib';
import { BLOCK_REWARD, type ChainParams, MAX_BLOCK_BYTES } from './params.js';
import { checkP2pkhInput } from './tx.js';
import { outpointKey, type SpentCoin, type UtxoView } from './utxo.js';

export class ConsensusError extends Error {
  override readonly name = 'ConsensusError';
  /**
   * The body does not match the header (unreadable, or not what the Merkle root commits to): the
   * header, and so the block id, may still be a good block's. Bitcoin Core does not remember such a
   * block as invalid (BLOCK_MUTATED), or one changed copy would make the good one unacceptable.
   */
  constructor(
    message: string,
    readonly mutated = false,
  ) {
    super(message);
  }
}

const MAX_MONEY = 21_000_000n * 100_000_000n;

export const txidOf = (tx: Transaction): string => tx.getId();
const prevTxid = (hash: Uint8Array): string => Buffer.from(hash).reverse().toString('hex');

/** Parses a serialised block; refuses trailing bytes, so one block has exactly one serialisation. */
export function parseBlock(raw: Buffer): Block {
  if (raw.length > MAX_BLOCK_BYTES)
    throw new ConsensusError(`block of ${raw.length} bytes, over ${MAX_BLOCK_BYTES}`);
  let block: Block;
  try {
    block = Block.fromBuffer(raw);
  } catch (err) {
    throw new ConsensusError(`malformed block: ${(err as Error).message}`, true);
  }
  if (!block.transactions || block.byteLength(false, false) !== raw.length) {
    throw new ConsensusError('malformed block: trailing or witness bytes', true);
  }
  return block;
}

/** What a transaction must be on its own (CheckTransaction). */
export function checkTxSanity(tx: Transaction): void {
  if (tx.ins.length === 0) throw new ConsensusError('transaction without inputs');
  if (tx.outs.length === 0) throw new ConsensusError('transaction without outputs');
  if (tx.hasWitnesses()) throw new ConsensusError('witness data: the lab uses legacy transactions only');
  let total = 0n;
  for (const out of tx.outs) {
    if (out.value < 0n || out.value > MAX_MONEY) throw new ConsensusError('output value out of range');
    total += out.value;
  }
  if (total > MAX_MONEY) throw new ConsensusError('outputs total out of range');
  if (tx.isCoinbase()) {
    if (tx.ins.length !== 1) throw new ConsensusError('coinbase with more than one input');
    const size = tx.ins[0]?.script.length ?? 0;
    if (size < 2 || size > 100) throw new ConsensusError('coinbase scriptSig not 2 to 100 bytes');
    return;
  }
  const seen = new Set<string>();
  for (const input of tx.ins) {
    const key = outpointKey(prevTxid(input.hash), input.index);
    if (seen.has(key)) throw new ConsensusError(`transaction spends ${key} twice`);
    seen.add(key);
    if (input.hash.every((b) => b === 0))
      throw new ConsensusError('null input in a transaction that is not a coinbase');
  }
}

/** CheckBlock: what a block proves by itself. */
export function checkBlockSanity(block: Block, params: ChainParams): void {
  if (block.bits !== params.bits) {
    throw new ConsensusError(
      `target bits ${block.bits.toString(16)}, the lab's are ${params.bits.toString(16)}`,
    );
  }
  if (!block.checkProofOfWork())
    throw new ConsensusError(`invalid proof of work: hash ${block.getId()} above the target`);
  const txs = block.transactions ?? [];
  if (txs.length === 0) throw new ConsensusError('block without transactions');
  if (!txs[0]?.isCoinbase()) throw new ConsensusError('the first transaction is not a coinbase');
  if (txs.slice(1).some((tx) => tx.isCoinbase())) throw new ConsensusError('more than one coinbase');
  // calculateMerkleRoot flags a "mutated" tree (a duplicated last pair, CVE-2012-2459).
  const mutated = { value: false };
  const root = Block.calculateMerkleRoot(txs, false, mutated);
  if (mutated.value) throw new ConsensusError('bad Merkle root: duplicated transactions', true);
  if (!block.merkleRoot || Buffer.compare(Buffer.from(root), Buffer.from(block.merkleRoot)) !== 0) {
    throw new ConsensusError('bad Merkle root: the header does not commit to these transactions', true);
  }
  const ids = new Set<string>();
  for (const tx of txs) {
    checkTxSanity(tx);
    const id = txidOf(tx);
    if (ids.has(id)) throw new ConsensusError(`transaction ${id} twice`);
    ids.add(id);
  }
  if (block.timestamp > Date.now() / 1000 + 2 * 60 * 60)
    throw new ConsensusError('timestamp more than 2 h in the future');
}

/**
 * Checks a non-coinbase transaction's inputs against `view` and spends them there (CheckTxInputs +
 * script checks). Returns the fee; records what it spent in `undo`.
 */
export function spendInputs(
  tx: Transaction,
  view: UtxoView,
  height: number,
  params: ChainParams,
  undo: SpentCoin[] | undefined,
  checkScripts = true,
): bigint {
  let inValue = 0n;
  tx.ins.forEach((input, i) => {
    const key = outpointKey(prevTxid(input.hash), input.index);
    const coin = view.get(key);
    if (!coin) throw new ConsensusError(`input ${i} spends ${key}, missing or already spent`);
    if (coin.coinbase && height - coin.height < params.coinbaseMaturity) {
      throw new ConsensusError(`input ${i} spends an immature coinbase`);
    }
    const problem = checkScripts ? checkP2pkhInput(tx, i, coin.script) : undefined;
    if (problem) throw new ConsensusError(`input ${i}: ${problem}`);
    inValue += coin.value;
    view.spend(key);
    undo?.push({ key, coin });
  });
  const outValue = tx.outs.reduce((a, o) => a + BigInt(o.value), 0n);
  if (outValue > inValue) throw new ConsensusError(`outputs (${outValue}) exceed inputs (${inValue})`);
  return inValue - outValue;
}

export function addOutputs(tx: Transaction, view: UtxoView, height: number): void {
  const id = txidOf(tx);
  const coinbase = tx.isCoinbase();
  tx.outs.forEach((out, vout) => {
    // Provably unspendable outputs (OP_RETURN) never enter the set.
    if (out.script[0] === bscript.OPS.OP_RETURN) return;
    view.add(outpointKey(id, vout), {
      value: BigInt(out.value),
      script: Buffer.from(out.script),
      height,
      coinbase,
    });
  });
}

/** A script number (at most 4 bytes, as Bitcoin's CScriptNum), or undefined. */
function scriptNumber(bytes: Uint8Array): number | undefined {
  try {
    return bscript.number.decode(Buffer.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * ConnectBlock: applies `block` at `height` to `view`; returns what it spent, to undo it.
 * `checkScripts` false re-applies a block whose signatures were already verified (a reorg).
 */
export function connectBlock(
  block: Block,
  view: UtxoView,
  height: number,
  params: ChainParams,
  checkScripts = true,
): SpentCoin[] {
  const txs = block.transactions ?? [];
  const undo: SpentCoin[] = [];
  const coinbase = txs[0] as Transaction;
  const heightPush = bscript.decompile(coinbase.ins[0]?.script ?? Buffer.alloc(0))?.[0];
  // Heights 1 to 16 are pushed as the opcodes OP_1..OP_16 (minimal push, as Bitcoin Core's CScript() << height).
  const claimed =
    heightPush instanceof Uint8Array
      ? scriptNumber(heightPush)
      : heightPush !== undefined && heightPush >= bscript.OPS.OP_1 && heightPush <= bscript.OPS.OP_16
        ? heightPush - bscript.OPS.OP_1 + 1
        : undefined;
  if (claimed !== height)
    throw new ConsensusError(`the coinbase does not start with the height ${height} (BIP 34)`);
  let fees = 0n;
  for (const tx of txs.slice(1)) {
    fees += spendInputs(tx, view, height, params, undo, checkScripts);
    addOutputs(tx, view, height);
  }
  const paid = coinbase.outs.reduce((a, o) => a + BigInt(o.value), 0n);
  if (paid > BLOCK_REWARD + fees) {
    throw new ConsensusError(
      `the coinbase pays ${paid} units, more than the reward ${BLOCK_REWARD} plus fees ${fees}`,
    );
  }
  addOutputs(coinbase, view, height);
  return undo;
}

/** Undoes `block` in `view`: removes its outputs, puts back what it spent. */
export function disconnectBlock(block: Block, view: UtxoView, undo: readonly SpentCoin[]): void {
  for (const tx of block.transactions ?? []) {
    const id = txidOf(tx);
    for (let vout = 0; vout < tx.outs.length; vout++) view.spend(outpointKey(id, vout));
  }
  for (const { key, coin } of undo) view.add(key, coin);
}
