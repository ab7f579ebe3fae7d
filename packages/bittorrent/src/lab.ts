import { isIPv6 } from 'node:net';
import type { LabConfig } from '@portlab/config';

/** The lab tracker's announce URL, as written in the .torrent files the lab makes. */
export function labTrackerUrl(config: LabConfig): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${config.portOf('tracker')}/announce`;
}
