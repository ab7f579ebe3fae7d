/**
 * The chain app: the lab blockchain node on 18444 (Bitcoin P2P, regtest) and its loopback JSON API on
 * 18443. Run by `portlab up`; `node apps/chain/dist/main.js` runs it alone.
 *
 * Neighbours come from the lab tracker (announced under SHA-1("portlab-chain-regtest"), as a torrent
 * would be) and from `portlab chain connect HOST:PORT`; then from each other (addr).
 */
import type { Socket } from 'node:net';
import { labPeerAddresses, labTrackerUrl } from '@portlab/bittorrent';
import { loopbackApiHost } from '@portlab/config';
import { startApp } from '@portlab/service';
import { createApi } from './api.js';
import { keepMeeting } from './neighbours.js';
import { createChainService, zeroBitsFromEnv } from './service.js';

const runtime = startApp('chain');
const { config } = runtime;
const transcript = runtime.transcript('chain');
const svc = createChainService(config.paths.root, zeroBitsFromEnv(), {
  host: config.host,
  port: config.portOf('chain'),
  transcript,
  // Connections we accept have their session from the runtime; those we dial, our own.
  sessionOf: (socket: Socket, outgoing: boolean) =>
    outgoing ? transcript.connected(socket) : runtime.sessionOf(socket),
  autoConnect: 8,
  // Per address (config chain): a class behind one NAT address raises it (README).
  maxPeersPerAddress: config.chain.maxConnectionsPerAddress,
});
for (const r of svc.chain.storeRepairs) console.log(`[chain] store: ${r}`);
for (const b of svc.chain.broken) console.log(`[chain] stored block ${b.id} no longer verifies: ${b.reason}`);

if (await runtime.serve('chain', svc.node.server)) {
  const addr = svc.node.server.address();
  if (addr && typeof addr === 'object') svc.node.port = addr.port;
}
await runtime.serve('chain-api', createApi(svc), loopbackApiHost(config));
console.log(`[chain] height ${svc.chain.height}, wallet ${svc.wallet.address}`);

// The tracker tells us who else runs a node; we dial a few (the rest dial us, or come by addr).
const { localAddress } = labPeerAddresses(config);
keepMeeting(svc.node, {
  trackerUrl: process.env.PORTLAB_CHAIN_TRACKER || labTrackerUrl(config),
  ownHosts: [config.host, config.publicAddress, '127.0.0.1'],
  ...(localAddress ? { localAddress } : {}),
});

runtime.ready();
