import type { Transaction } from 'bitcoinjs-lib';
import { Chain } from '../src/chain.js';
import type { Wallet } from '../src/keys.js';
import { encodeVersion, PROTOCOL_VERSION } from '../src/p2p/messages.js';
import { DEFAULT_FEE, labParams } from '../src/params.js';
import { mineSync } from '../src/pow.js';
import { paymentTx } from '../src/tx.js';

/** Tests mine at 8 zero bits: ~256 hashes a block. */
export const EASY = labParams(8);

/** Mines one block on `chain`'s tip paying `wallet`, accepts it, returns its raw bytes. */
export function mineOn(chain: Chain, wallet: Wallet, time?: number): Buffer {
  const block = mineSync(chain.template(wallet.script, time));
  const raw = Buffer.from(block.toBuffer());
  const r = chain.accept(raw);
  if (r.status !== 'accepted') throw new Error(`own block ${r.status}: ${r.reason}`);
  return raw;
}

export function pay(chain: Chain, from: Wallet, to: Wallet, amount: bigint): Transaction {
  return paymentTx(from, chain.coinsOf(from.script), to.script, amount, DEFAULT_FEE);
}

/** The payload of a test peer's `version` to a node on `port`: nonce bytes `nonce`, BIP 14 `userAgent`. */
export function testVersion(port: number, nonce: number, userAgent = '/test/'): Buffer {
  return encodeVersion({
    version: PROTOCOL_VERSION,
    services: 0n,
    timestamp: 0n,
    recv: { services: 0n, host: '127.0.0.1', port },
    from: { services: 0n, host: '127.0.0.1', port: 0 },
    nonce: Buffer.alloc(8, nonce),
    userAgent,
    startHeight: 0,
    relay: false,
  });
}

export { Chain };
