/**
 * What `portlab chain show` prints: a block header byte by byte, and how to recompute its hash with
 * nothing but standard tools, so "verifiable by anyone" is something a student does.
 */
import type { BlockEntry } from './chain.js';
import { targetFromBits, zeroBitsOf } from './params.js';

const rev = (b: Uint8Array): string => Buffer.from(b).reverse().toString('hex');

export interface HeaderView {
  height: number;
  id: string;
  hex: string;
  fields: { name: string; bytes: string; value: string }[];
  /** One line of shell that prints the double SHA-256 of the header (in internal byte order). */
  command: string;
  /** The same, byte-reversed into the id as explorers show it. */
  commandId: string;
  target: string;
  zeroBits: number;
  txs: { id: string; outputs: { value: string; script: string }[] }[];
}

export function headerView(entry: BlockEntry): HeaderView {
  const raw = entry.raw;
  const hex = raw.subarray(0, 80).toString('hex');
  const b = entry.block;
  const field = (name: string, from: number, to: number, value: string) => ({
    name,
    bytes: hex.slice(from * 2, to * 2),
    value,
  });
  const command = `echo ${hex} | xxd -r -p | sha256sum | xxd -r -p | sha256sum`;
  return {
    height: entry.height,
    id: entry.id,
    hex,
    fields: [
      field('version', 0, 4, `${b.version} (0x${(b.version >>> 0).toString(16)}), little-endian`),
      field(
        'previous block',
        4,
        36,
        `${rev(b.prevHash as Uint8Array)} (reversed: the id of block ${entry.height - 1})`,
      ),
      field('merkle root', 36, 68, `${rev(b.merkleRoot as Uint8Array)} (reversed)`),
      field('time', 68, 72, `${b.timestamp} = ${new Date(b.timestamp * 1000).toISOString()}`),
      field('bits', 72, 76, `0x${b.bits.toString(16)}: the target, compact`),
      field('nonce', 76, 80, `${b.nonce}: what the miner changed until the hash met the target`),
    ],
    command,
    commandId: `${command} | cut -c1-64 | fold -w2 | tac | tr -d '\\n'; echo`,
    target: targetFromBits(b.bits).toString(16).padStart(64, '0'),
    zeroBits: zeroBitsOf(b.bits),
    txs: (b.transactions ?? []).map((t) => ({
      id: t.getId(),
      outputs: t.outs.map((o) => ({
        value: (Number(o.value) / 1e8).toFixed(8),
        script: Buffer.from(o.script).toString('hex'),
      })),
    })),
  };
}
