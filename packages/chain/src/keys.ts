/**
 * Wallet keys: a secp256k1 key pair (ecpair over tiny-secp256k1) and its P2PKH address on regtest
 * (Base58Check, version byte 0x6f: addresses start with m or n).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { payments } from 'bitcoinjs-lib';
import { ECPairFactory, type ECPairInterface } from 'ecpair';
import * as ecc from 'tiny-secp256k1';
import { NETWORK } from './params.js';

export const ECPair = ECPairFactory(ecc);
export { ecc };

export interface Wallet {
  key: ECPairInterface;
  address: string;
  /** The locking script of our outputs: OP_DUP OP_HASH160 <hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG. */
  script: Buffer;
}

export function walletOf(key: ECPairInterface): Wallet {
  const p = payments.p2pkh({ pubkey: key.publicKey, network: NETWORK });
  if (!p.address || !p.output) throw new Error('no P2PKH address for this key');
  return { key, address: p.address, script: Buffer.from(p.output) };
}

export function newWallet(): Wallet {
  return walletOf(ECPair.makeRandom({ network: NETWORK }));
}

/** The locking script that pays `address` (a regtest P2PKH address); throws on anything else. */
export function scriptForAddress(address: string): Buffer {
  const p = payments.p2pkh({ address, network: NETWORK });
  if (!p.output) throw new Error(`not a regtest P2PKH address: ${address}`);
  return Buffer.from(p.output);
}

/** The address a P2PKH locking script pays, or undefined for any other script. */
export function addressOfScript(script: Uint8Array): string | undefined {
  try {
    return payments.p2pkh({ output: script, network: NETWORK }).address;
  } catch {
    return undefined;
  }
}

/**
 * The node's wallet, kept as WIF (Wallet Import Format, the text form Bitcoin wallets export) in
 * `<dir>/wallet.json`, readable by its owner only.
 */
export function loadOrCreateWallet(dir: string): Wallet {
  const file = path.join(dir, 'wallet.json');
  if (existsSync(file)) {
    const { wif } = JSON.parse(readFileSync(file, 'utf8')) as { wif: string };
    return walletOf(ECPair.fromWIF(wif, NETWORK));
  }
  mkdirSync(dir, { recursive: true });
  const wallet = newWallet();
  writeFileSync(file, `${JSON.stringify({ wif: wallet.key.toWIF(), address: wallet.address })}\n`, {
    mode: 0o600,
  });
  return wallet;
}
