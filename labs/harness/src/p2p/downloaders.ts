/**
 * Downloading peers in the demo's own process: each with its own free port and the class's upload
 * cap, its own node on the dashboard's graph; and waiting for a torrent to finish, or to stall.
 */
import { explainStall, labPeerAddresses, PeerNode, type Torrent, watchForStall } from '@portlab/bittorrent';
import { freePort, type LabConfig } from '@portlab/config';
import { Transcript } from '@portlab/transcript';

/** A downloading peer in this process: its own port, the same upload cap, its own node on the graph. */
export async function downloader(config: LabConfig, rate: number): Promise<PeerNode> {
  const port = await freePort(config.host);
  const node = new PeerNode({
    ...labPeerAddresses(config),
    port,
    uploadRate: rate,
    transcript: new Transcript('peer', port, {
      logDir: config.paths.log,
      ...config.transcript,
      node: `${config.publicAddress}:${port}`,
    }),
  });
  await node.listen();
  return node;
}

/** Seconds without a piece before the demo stops waiting and says what to check. */
const STALL_SECONDS = 60;

/** Resolves when the torrent is complete; fails, saying what to check, when no piece comes for a minute. */
export async function done(torrent: Torrent): Promise<void> {
  if (torrent.complete) return;
  const stall = watchForStall(torrent, STALL_SECONDS, torrent.trackerUrl);
  try {
    const outcome = await Promise.race([
      new Promise<true>((resolve) => torrent.once('done', () => resolve(true))),
      stall.stalled,
    ]);
    if (outcome !== true) throw new Error(explainStall(outcome));
  } finally {
    stall.stop();
  }
}
