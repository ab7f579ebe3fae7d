/**
 * The lab's consensus parameters. Formats are Bitcoin's regtest network (bitcoinjs-lib `networks.regtest`,
 * P2P magic fabfb5da, port 18444); the rules that Bitcoin adjusts over time (difficulty, reward halving,
 * coinbase maturity) are fixed per lab, so a class can reason about them.
 */
import { Block, networks } from 'bitcoinjs-lib';

export const NETWORK = networks.regtest;

/** Regtest's P2P start string (Bitcoin Core chainparams.cpp, CRegTestParams: pchMessageStart). */
export const MAGIC = Buffer.from('fabfb5da', 'hex');

/** 1 lab coin = 100,000,000 units, as 1 BTC = 100,000,000 satoshis. */
export const COIN = 100_000_000n;

/** Units as coins, the way a student types them: 150000000n → "1.5". */
export const formatCoins = (units: bigint): string => {
  const whole = units / COIN;
  const frac = (units % COIN).toString().padStart(8, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
};

/** The coinbase reward of one block, in units (Bitcoin's first era: 50 coins). */
export const BLOCK_REWARD = 50n * COIN;

/** The default fee a wallet pays per transaction: it goes to the miner (coinbase = reward + fees). */
export const DEFAULT_FEE = 10_000n;

/** Bitcoin's legacy limit on a serialised block (MAX_BLOCK_SIZE before segwit). */
export const MAX_BLOCK_BYTES = 1_000_000;

/**
 * The lab's default difficulty, in leading zero bits of the block hash (7 hex zeros). Measured on the
 * lab machine: one miner thread does ~0.45 to 1 million double SHA-256 per second, so a class of 30
 * together does ~15 to 30 MH/s and 2^28 expected hashes take ~9 to 18 s, within the 10-30 s we aim at.
 * Each bit less halves the time: a group of 4 wants 25 bits.
 */
export const DEFAULT_ZERO_BITS = 28;

/**
 * Regtest's genesis block, byte for byte (Bitcoin Core chainparams.cpp: CreateGenesisBlock(1296688602, 2,
 * 0x207fffff, 1, 50 * COIN)): the coinbase quoting The Times of 3 January 2009. Its hash is
 * 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206. As in Bitcoin, its output is not spendable.
 */
export const GENESIS_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a' +
  'dae5494dffff7f20020000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000';

export const GENESIS_ID = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

export function genesisBlock(): Block {
  return Block.fromHex(GENESIS_HEX);
}

/** The target as a number: a block is valid when its hash, read as a little-endian 256-bit number, is ≤ it. */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

/** Bitcoin's "compact" encoding of a target (arith_uint256::GetCompact): 1 byte of size, 3 of mantissa. */
export function bitsFromTarget(target: bigint): number {
  let size = Math.ceil(target.toString(16).length / 2);
  let mantissa =
    size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  // The mantissa's top bit is a sign bit: shift one byte more rather than set it.
  if (mantissa & 0x00800000) {
    mantissa >>= 8;
    size += 1;
  }
  return ((size << 24) | mantissa) >>> 0;
}

/** The compact target for a hash with at least `zeroBits` leading zero bits. */
export function bitsForZeroBits(zeroBits: number): number {
  if (!Number.isInteger(zeroBits) || zeroBits < 1 || zeroBits > 64)
    throw new RangeError('zeroBits must be 1..64');
  return bitsFromTarget((1n << BigInt(256 - zeroBits)) - 1n);
}

/** How many leading zero bits a target demands (what students count in the hash). */
export function zeroBitsOf(bits: number): number {
  return 256 - targetFromBits(bits).toString(2).length;
}

/** The expected number of hashes to find a block: 2^256 / (target + 1) (Bitcoin's GetBlockProof). */
export function workOf(bits: number): bigint {
  return (1n << 256n) / (targetFromBits(bits) + 1n);
}

/** The lab's rules, shared by every node of a class. */
export interface ChainParams {
  /** The compact target every block but genesis must carry. */
  bits: number;
  /** Blocks a coinbase output waits before it can be spent (Bitcoin: 100; the lab: 0, to spend at once). */
  coinbaseMaturity: number;
}

export function labParams(zeroBits = DEFAULT_ZERO_BITS, coinbaseMaturity = 0): ChainParams {
  return { bits: bitsForZeroBits(zeroBits), coinbaseMaturity };
}
