import { clientSourceAddress, type LabConfig, urlHost } from '@portlab/config';

/**
 * The lab tracker's announce URL, as written in the .torrent files the lab makes: at the lab's
 * public address, the one students' clients can reach (with host 0.0.0.0, not 0.0.0.0).
 */
export function labTrackerUrl(config: Pick<LabConfig, 'publicAddress' | 'portOf'>): string {
  return `http://${urlHost(config.publicAddress)}:${config.portOf('tracker')}/announce`;
}

/**
 * The addresses of a peer run by the lab (the resident peer, `portlab p2p`, lab 5's demo): it
 * listens on the lab's host, is announced at its public address, and announces and dials from the
 * lab's own address (config's clientSourceAddress), so the tracker lists it where students reach it.
 */
export function labPeerAddresses(config: Pick<LabConfig, 'host' | 'publicAddress'>): {
  host: string;
  publicAddress: string;
  localAddress?: string;
} {
  const localAddress = clientSourceAddress(config);
  return {
    host: config.host,
    publicAddress: config.publicAddress,
    ...(localAddress ? { localAddress } : {}),
  };
}
