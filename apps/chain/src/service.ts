/**
 * The chain node of one lab: its chain (stored in $DATA/chain), wallet, P2P node and miner. Built by
 * main.ts under the app runtime, and by the tests and the bench without it.
 */
import path from 'node:path';
import {
  Chain,
  ChainNode,
  labParams,
  loadOrCreateWallet,
  Mining,
  type NodeOptions,
  type Wallet,
} from '@portlab/chain';

export interface ChainService {
  chain: Chain;
  node: ChainNode;
  wallet: Wallet;
  mining: Mining;
  /** Blocks this node's owner tampered with (shown in red). */
  tampered: Set<string>;
  /** The reorgs seen, newest last: a fork resolved to the heavier branch (at most 20 kept). */
  reorgs: { at: number; height: number; dropped: string[]; tip: string }[];
}

export function zeroBitsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.PORTLAB_CHAIN_ZERO_BITS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`PORTLAB_CHAIN_ZERO_BITS: ${v} is not 1..64`);
  return n;
}

export function createChainService(
  dataDir: string,
  zeroBits: number | undefined,
  nodeOptions: Omit<NodeOptions, 'chain'>,
): ChainService {
  const dir = path.join(dataDir, 'chain');
  const chain = Chain.open(path.join(dir, 'blocks'), labParams(zeroBits));
  const wallet = loadOrCreateWallet(dir);
  const node = new ChainNode({ ...nodeOptions, chain });
  const mining = new Mining(chain, () => wallet.script);
  const reorgs: ChainService['reorgs'] = [];
  chain.on('tip', (tip: { id: string; height: number }, dropped: string[]) => {
    if (dropped.length === 0) return;
    reorgs.push({ at: Date.now(), height: tip.height, dropped, tip: tip.id });
    if (reorgs.length > 20) reorgs.shift();
    console.log(
      `[chain] reorg: ${dropped.length} block(s) dropped for a heavier branch, tip ${tip.id} at ${tip.height}`,
    );
  });
  return { chain, node, wallet, mining, tampered: new Set(), reorgs };
}
