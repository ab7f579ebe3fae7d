/**
 * A download that gets no piece for a while stops waiting and says what to check, instead of
 * sitting at 0 pieces with no message (issue #13: a lab on 127.0.0.2 whose peers were listed as
 * 127.0.0.1 did exactly that). `portlab p2p get` and lab 5's demo use it. The clock restarts with
 * each piece: a slow download is not a stall.
 */
import type { Torrent } from './torrent.js';

/** Seconds without a piece before `portlab p2p get` gives up, unless --stall-timeout says otherwise. */
export const DEFAULT_STALL_SECONDS = 60;

/** Why a download stalled, as facts: `explainStall` says them in English, the CLI in French too. */
export interface StallFacts {
  readonly seconds: number;
  readonly trackerUrl: string;
  /** What the last announce gave: no answer yet, an error, or how many peers it listed. */
  readonly tracker: { readonly answered: false } | { readonly error: string } | { readonly peers: number };
  /** The peers this download reached (their connection opened), none of which sent a piece. */
  readonly reached: readonly string[];
}

export interface Stall {
  /** Resolves with the facts once no piece came for `seconds`; never while pieces come. */
  readonly stalled: Promise<StallFacts>;
  stop(): void;
}

export function watchForStall(torrent: Torrent, seconds: number, trackerUrl: string): Stall {
  let timer: NodeJS.Timeout | undefined;
  const met = new Set<string>();
  const onPeer = (address: string) => met.add(address);
  torrent.on('peer', onPeer);
  let fire: (facts: StallFacts) => void = () => undefined;
  const stalled = new Promise<StallFacts>((resolve) => {
    fire = resolve;
  });
  const facts = (): StallFacts => {
    const last = torrent.lastAnnounce;
    const tracker =
      last === null
        ? { answered: false as const }
        : 'error' in last
          ? { error: last.error }
          : { peers: last.peers };
    return { seconds, trackerUrl, tracker, reached: [...met] };
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => fire(facts()), seconds * 1000);
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

/** What a stall means and what to check, in English (the CLI's French is in its p2p/texts.ts). */
export function explainStall({ seconds, trackerUrl, tracker, reached }: StallFacts): string {
  const why =
    'answered' in tracker
      ? `the tracker ${trackerUrl} has not answered yet`
      : 'error' in tracker
        ? `the tracker ${trackerUrl} did not answer well: ${tracker.error}`
        : reached.length > 0
          ? `peers were reached (${reached.join(', ')}) but sent no piece`
          : tracker.peers === 0
            ? `the tracker ${trackerUrl} knows no other peer of this torrent`
            : `the tracker ${trackerUrl} listed ${tracker.peers} peer(s), but none answered`;
  return [
    `no piece arrived in ${seconds} s: ${why}.`,
    'Check:',
    `  - the tracker's address: is the lab running there? (npx portlab ports; the torrent announces to ${trackerUrl})`,
    "  - the peers' addresses and ports: the tracker must list the lab's address (PORTLAB_HOST, --public-address), not 127.0.0.1 for a lab on another address;",
    '    does a peer seed this file? (npx portlab p2p seed FILE, or the resident peer on 6881)',
    '  - a firewall between the machines: TCP to the tracker (6969) and to the peers (6881 and up) must get through.',
  ].join('\n');
}
