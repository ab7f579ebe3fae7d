/**
 * The peer app: the BitTorrent tracker on 6969 and the resident peer on 6881, one process.
 * Run by `portlab up`; `node apps/peer/dist/main.js` runs it alone.
 */
import {
  createTracker,
  DEFAULT_SWARM_LIMITS,
  labPeerAddresses,
  labTrackerUrl,
  PeerNode,
} from '@portlab/bittorrent';
import { urlHost } from '@portlab/config';
import { startApp } from '@portlab/service';
import { seedResidentFiles } from './resident.js';

const runtime = startApp('peer');
const { config } = runtime;
const sessionOf = runtime.sessionOf.bind(runtime);

// Per address (config tracker, p2p): a class behind one NAT address raises them (README).
const tracker = createTracker({
  transcript: runtime.transcript('tracker'),
  sessionOf,
  limits: { ...DEFAULT_SWARM_LIMITS, peersPerSource: config.tracker.maxPeersPerAddress },
  maxConnectionsPerAddress: config.tracker.maxPeersPerAddress,
});
await runtime.serve('tracker', tracker.server);

// The resident peer is announced at the address students reach (config.publicAddress), and announces
// from the lab's own address, so the tracker lists it there and not at 127.0.0.1.
const resident = new PeerNode({
  ...labPeerAddresses(config),
  port: config.portOf('peer'),
  transcript: runtime.transcript('peer'),
  sessionOf,
  maxConnectionsPerAddress: config.p2p.maxConnectionsPerAddress,
});
if (await runtime.serve('peer', resident.server)) {
  const seeded = await seedResidentFiles(resident, {
    p2p: config.paths.p2p,
    updates: config.paths.updates,
    trackerUrl: labTrackerUrl(config),
    // The web seed (BEP 19) at the address students reach, as the tracker's URL is.
    updatesUrl: `http://${urlHost(config.publicAddress)}:${config.portOf('http')}/updates/`,
  });
  console.log(`[peer] seeding ${seeded.length} file(s) on port ${resident.port}: ${seeded.join(', ')}`);
}

runtime.ready();
