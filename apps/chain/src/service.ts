/**
 * The chain node of one lab: its chain (stored in $DATA/chain), wallet, P2P node and miner. Built by
 * main.ts under the app runtime, and by the tests and the bench without it.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  /** What the node's owner did (lab 08's check), kept in $DATA/chain/activity.json. */
  activity: Activity;
  saveActivity(): void;
}

/**
 * Lab 08's exercise, as this node saw it done. A student's identity on the chain is the wallet of
 * their own node; `owner` binds it to one lab account (`portlab chain wallet --user NAME`, once), so
 * `portlab check 08 --user NAME` counts this wallet's work for that account and for no other.
 */
export interface Activity {
  owner?: string;
  /** Payments sent from this wallet (POST /send). */
  sent: { txid: string; to: string; amount: string; at: number }[];
  /** Headers shown with their hash command (GET /block, `portlab chain show`). */
  shown: number[];
  /** Blocks tampered with (POST /tamper), and whether a later `verify` reported the break. */
  tampered: { height: number; id: string; at: number }[];
  /** `verify` runs that found the chain broken after a tamper. */
  sawBroken: number;
}

function loadActivity(file: string): Activity {
  const fresh: Activity = { sent: [], shown: [], tampered: [], sawBroken: 0 };
  try {
    return { ...fresh, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<Activity>) };
  } catch {
    return fresh;
  }
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
  const activityFile = path.join(dir, 'activity.json');
  const activity = loadActivity(activityFile);
  const saveActivity = () => {
    // Bounded: the lists only need to show the exercise was done.
    activity.sent = activity.sent.slice(-50);
    activity.shown = activity.shown.slice(-50);
    activity.tampered = activity.tampered.slice(-50);
    writeFileSync(`${activityFile}.tmp`, JSON.stringify(activity));
    renameSync(`${activityFile}.tmp`, activityFile);
  };
  return { chain, node, wallet, mining, tampered: new Set(), reorgs, activity, saveActivity };
}
