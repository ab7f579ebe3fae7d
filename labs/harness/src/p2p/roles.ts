/**
 * Who listened and who connected, from the transcripts' connection events alone (`role`, `from`,
 * `to`, `node`). A server only accepts; a client only dials; a BitTorrent peer does both.
 */
import type { ConnectionEvent, TranscriptEvent } from '@portlab/transcript';

export interface Roles {
  /** Connections this machine accepted (it listened). */
  accepted: number;
  /** Connections this machine opened (it dialled). */
  dialled: number;
}

/** BitTorrent: each `node` (a peer's listening address) with what it accepted and what it dialled. */
export function peerRoles(events: TranscriptEvent[]): Map<string, Roles> {
  const roles = new Map<string, Roles>();
  for (const e of events) {
    if (e.type !== 'open' || e.service !== 'peer') continue;
    // The resident peer's app writes no node: the address it listens on is `to`.
    const node = e.node ?? (e.role === 'server' ? e.to : e.from);
    const r = roles.get(node) ?? { accepted: 0, dialled: 0 };
    if (e.role === 'server') r.accepted++;
    else r.dialled++;
    roles.set(node, r);
  }
  return roles;
}

/**
 * FTP: the server's side of each connection (the control port, and each passive data port) only
 * ever appears as `to`, the client's only as `from`. Data connections are lines flagged 'data'
 * with `{ from, to }`.
 */
export function ftpRoles(events: TranscriptEvent[]): { server: Roles; client: Roles } {
  const pairs: { from: string; to: string }[] = [];
  for (const e of events) {
    if (e.service !== 'ftp') continue;
    if (e.type === 'open') pairs.push(e as ConnectionEvent);
    if (e.type === 'line' && e.data?.event === 'data-open') {
      pairs.push({ from: String(e.data.from), to: String(e.data.to) });
    }
  }
  const serverHosts = new Set(pairs.map((p) => p.to));
  const clientHosts = new Set(pairs.map((p) => p.from));
  return {
    server: { accepted: pairs.length, dialled: pairs.filter((p) => serverHosts.has(p.from)).length },
    client: { dialled: pairs.length, accepted: pairs.filter((p) => clientHosts.has(p.to)).length },
  };
}
