/**
 * A download that gets no piece for a while stops waiting and says what to check, instead of
 * sitting at 0 pieces with no message (issue #13: a lab on 127.0.0.2 whose peers were listed as
 * 127.0.0.1 did exactly that). `portlab p2p get` and lab 5's demo use it. The clock restarts with
 * each piece: a slow download is not a stall.
 */
import type { Torrent } from './torrent.js';

/** Seconds without a piece before `portlab p2p get` gives up, unless --stall-timeout says otherwise. */
export const DEFAULT_STALL_SECONDS = 60;

export interface Stall {
  /** Resolves with the explanation once no piece came for `seconds`; never while pieces come. */
  readonly stalled: Promise<string>;
  stop(): void;
}

export function watchForStall(torrent: Torrent, seconds: number, trackerUrl: string): Stall {
  let timer: NodeJS.Timeout | undefined;
  const met = new Set<string>();
  const onPeer = (address: string) => met.add(address);
  torrent.on('peer', onPeer);
  let fire: (message: string) => void = () => undefined;
  const stalled = new Promise<string>((resolve) => {
    fire = resolve;
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => fire(explain()), seconds * 1000);
  };
  const explain = () => {
    const last = torrent.lastAnnounce;
    const tracker =
      last === null
        ? `the tracker ${trackerUrl} has not answered yet`
        : 'error' in last
          ? `the tracker ${trackerUrl} did not answer well: ${last.error}`
          : met.size > 0
            ? `peers were reached (${[...met].join(', ')}) but sent no piece`
            : last.peers === 0
              ? `the tracker ${trackerUrl} knows no other peer of this torrent`
              : `the tracker ${trackerUrl} listed ${last.peers} peer(s), but none answered`;
    return [
      `no piece arrived in ${seconds} s: ${tracker}.`,
      'Check:',
      `  - the tracker's address: is the lab running there? (npx portlab ports; the torrent announces to ${trackerUrl})`,
      "  - the peers' addresses and ports: the tracker must list the lab's address (PORTLAB_HOST, --public-address), not 127.0.0.1 for a lab on another address;",
      '    does a peer seed this file? (npx portlab p2p seed FILE, or the resident peer on 6881)',
      '  - a firewall between the machines: TCP to the tracker (6969) and to the peers (6881 and up) must get through.',
    ].join('\n');
  };
  const onPiece = () => arm();
  torrent.on('piece', onPiece);
  arm();
  return {
    stalled,
    stop() {
      clearTimeout(timer);
      torrent.off('piece', onPiece);
      torrent.off('peer', onPeer);
    },
  };
}
