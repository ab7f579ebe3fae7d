/**
 * The chain app: the lab blockchain node on 18444 (Bitcoin P2P, regtest) and its loopback JSON API on
 * 18443. Run by `portlab up`; `node apps/chain/dist/main.js` runs it alone.
 *
 * Neighbours come from the lab tracker (announced under SHA-1("portlab-chain-regtest"), as a torrent
 * would be) and from `portlab chain connect HOST:PORT`; then from each other (addr).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { announce, labPeerAddresses, labTrackerUrl } from '@portlab/bittorrent';
import { startApp } from '@portlab/service';
import { createApi } from './api.js';
import { createChainService, zeroBitsFromEnv } from './service.js';

/** The swarm every lab node announces under: not a torrent, a meeting point (see README.md). */
export const CHAIN_INFO_HASH = createHash('sha1').update('portlab-chain-regtest').digest();

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
});
for (const r of svc.chain.storeRepairs) console.log(`[chain] store: ${r}`);
for (const b of svc.chain.broken) console.log(`[chain] stored block ${b.id} no longer verifies: ${b.reason}`);

if (await runtime.serve('chain', svc.node.server)) {
  const addr = svc.node.server.address();
  if (addr && typeof addr === 'object') svc.node.port = addr.port;
}
await runtime.serve('chain-api', createApi(svc), '127.0.0.1');
console.log(`[chain] height ${svc.chain.height}, wallet ${svc.wallet.address}`);

// The tracker tells us who else runs a node; we dial a few (the rest dial us, or come by addr).
const trackerUrl = process.env.PORTLAB_CHAIN_TRACKER || labTrackerUrl(config);
const peerId = Buffer.concat([Buffer.from('-PL0100-'), randomBytes(12)]);
const { localAddress } = labPeerAddresses(config);
async function meet(): Promise<number> {
  try {
    const r = await announce(trackerUrl, {
      infoHash: CHAIN_INFO_HASH,
      peerId,
      port: svc.node.port,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      numwant: 50,
      ...(localAddress ? { localAddress } : {}),
    });
    for (const p of r.peers) {
      if (p.port === svc.node.port && (p.ip === config.publicAddress || p.ip === config.host)) continue;
      if (svc.node.peers.size < 8) svc.node.connect(p.ip, p.port).catch(() => undefined);
      else svc.node.known.add(`${p.ip}:${p.port}`);
    }
    return Math.min(Math.max(r.interval, 30), 300);
  } catch {
    return 60;
  }
}
const loop = async () => {
  const next = await meet();
  setTimeout(loop, next * 1000).unref();
};
void loop();

runtime.ready();
