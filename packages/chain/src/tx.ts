/**
 * Transactions in Bitcoin's legacy (non-witness) format, built and signed with bitcoinjs-lib.
 * A P2PKH input unlocks with <signature+sighash-type> <public key>; the signature commits to the
 * transaction with that input's scriptSig replaced by the output's locking script (SIGHASH_ALL,
 * Bitcoin's original signature hash, Transaction.hashForSignature).
 */
import { script as bscript, crypto, Transaction } from 'bitcoinjs-lib';
import { ecc, type Wallet } from './keys.js';
import { formatCoins } from './params.js';

/** An unspent output as the wallet sees it. */
export interface Coin {
  txid: string;
  vout: number;
  value: bigint;
  script: Buffer;
}

/**
 * The coinbase of a block at `height`: no real input; its scriptSig starts with the height (BIP 34,
 * which also makes every coinbase's txid unique), then a few free bytes a miner may use.
 */
export function coinbaseTx(
  height: number,
  payTo: Uint8Array,
  value: bigint,
  extra: Uint8Array = new Uint8Array(0),
): Transaction {
  const tx = new Transaction();
  tx.version = 1;
  const scriptSig = bscript.compile([
    bscript.number.encode(height),
    Buffer.from('portlab'),
    ...(extra.length ? [extra] : []),
  ]);
  tx.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, scriptSig);
  tx.addOutput(payTo, value);
  return tx;
}

/** Pays `amount` to `to` from `coins` owned by `wallet`, with change back to it. */
export function paymentTx(
  wallet: Wallet,
  coins: readonly Coin[],
  to: Buffer,
  amount: bigint,
  fee: bigint,
): Transaction {
  if (amount <= 0n) throw new Error('the amount must be positive');
  const chosen: Coin[] = [];
  let total = 0n;
  for (const coin of coins) {
    if (total >= amount + fee) break;
    chosen.push(coin);
    total += coin.value;
  }
  if (total < amount + fee)
    throw new Error(
      `not enough coins: ${formatCoins(total)} available, ${formatCoins(amount + fee)} needed (the amount and a ${formatCoins(fee)} fee)`,
    );
  const tx = new Transaction();
  tx.version = 1;
  for (const c of chosen) tx.addInput(Buffer.from(c.txid, 'hex').reverse(), c.vout);
  tx.addOutput(to, amount);
  const change = total - amount - fee;
  if (change > 0n) tx.addOutput(wallet.script, change);
  chosen.forEach((c, i) => {
    signInput(tx, i, wallet, c.script);
  });
  return tx;
}

export function signInput(tx: Transaction, index: number, wallet: Wallet, prevScript: Buffer): void {
  const hash = tx.hashForSignature(index, prevScript, Transaction.SIGHASH_ALL);
  const signature = bscript.signature.encode(wallet.key.sign(hash), Transaction.SIGHASH_ALL);
  tx.setInputScript(index, bscript.compile([signature, wallet.key.publicKey]));
}

/**
 * Checks input `index` of `tx` unlocks `prevScript`, a P2PKH locking script: the public key hashes to
 * the script's hash160, and the DER signature (strict, low-S: BIP 66 and BIP 62) verifies. Returns
 * the reason it does not, or undefined.
 */
export function checkP2pkhInput(tx: Transaction, index: number, prevScript: Uint8Array): string | undefined {
  // The P2PKH template, byte for byte: OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG
  // (76 a9 14 … 88 ac). Matched here rather than through payments.p2pkh: this runs for every input.
  if (
    prevScript.length !== 25 ||
    prevScript[0] !== 0x76 ||
    prevScript[1] !== 0xa9 ||
    prevScript[2] !== 0x14 ||
    prevScript[23] !== 0x88 ||
    prevScript[24] !== 0xac
  ) {
    return 'the output spent is not P2PKH';
  }
  const hash160 = prevScript.subarray(3, 23);
  const input = tx.ins[index];
  if (!input) return 'no such input';
  const chunks = bscript.decompile(input.script);
  if (chunks?.length !== 2 || !(chunks[0] instanceof Uint8Array) || !(chunks[1] instanceof Uint8Array)) {
    return 'scriptSig is not <signature> <public key>';
  }
  const [sigBytes, pubkey] = chunks as [Uint8Array, Uint8Array];
  if (Buffer.compare(crypto.hash160(pubkey), hash160) !== 0)
    return 'the public key does not match the address';
  let decoded: { signature: Uint8Array; hashType: number };
  try {
    decoded = bscript.signature.decode(sigBytes);
  } catch {
    return 'the signature is not strict DER';
  }
  if (decoded.hashType !== Transaction.SIGHASH_ALL) return 'only SIGHASH_ALL is accepted';
  const hash = tx.hashForSignature(index, prevScript, decoded.hashType);
  try {
    if (!ecc.verify(hash, pubkey, decoded.signature, true)) return 'bad signature';
  } catch {
    return 'bad public key or signature';
  }
  return undefined;
}

export const isCoinbase = (tx: Transaction): boolean => tx.isCoinbase();
