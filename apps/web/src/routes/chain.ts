import { type LabConfig, loopbackApiHost } from '@portlab/config';
import type { FastifyInstance } from 'fastify';

/**
 * GET /api/chain: the lab node's blockchain for the dashboard's chain panel (lab 08), read from the
 * chain app's loopback API (apps/chain, 127.0.0.1:18443). Only what a blockchain makes public anyway:
 * blocks (id, previous id, nonce), side branches, each neighbour's chain (its headers), balances by address, the mempool, reorgs. Nothing
 * that spends: the API's POST routes are not reachable from here. {"running": false} when the chain
 * app is not running.
 */
export function chainRoutes(app: FastifyInstance, config: LabConfig): void {
  const base = `http://${loopbackApiHost(config)}:${config.portOf('chain-api')}`;
  const get = async (path: string) => {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  app.get('/api/chain', async () => {
    try {
      const [blocks, status] = await Promise.all([get('/blocks?count=12'), get('/status')]);
      return {
        running: true,
        height: status.height,
        zeroBits: status.zeroBits,
        target: status.target,
        blocks: blocks.blocks,
        forks: blocks.forks,
        // Each neighbour's chain, as the headers it sent us: the dashboard's cards side by side.
        peerChains: blocks.peers ?? [],
        balances: blocks.balances,
        mempool: status.mempool,
        peers: (status.peers as unknown[]).length,
        reorgs: status.reorgs,
        broken: status.broken,
      };
    } catch {
      return { running: false };
    }
  });
}
