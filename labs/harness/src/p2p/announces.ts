/**
 * What the class tracker learnt of a student's peers, from its transcript: labs 5 and 6 check an
 * exercise with it, since BitTorrent itself happens between the students' PCs.
 */
import type { TranscriptEvent } from '@portlab/transcript';

/** What the tracker learnt of one peer (one peer_id) from its announces. */
export interface AnnouncedPeer {
  /** The most it said it had downloaded and uploaded (BEP 3 counts from its start). */
  downloaded: number;
  uploaded: number;
  /** It said event=completed, or left=0 after downloading. */
  completed: boolean;
  /** The peers ("ip:port") the tracker's answers listed for it. */
  handed: Set<string>;
}

/**
 * The parameters of an announce as the tracker's transcript writes it (`GET /announce info_hash=…
 * peer_id=… port=… left=… event=… user=…`, packages/bittorrent tracker/server.ts), by name; undefined
 * for any other line.
 */
export function announceFields(line: string): Map<string, string> | undefined {
  if (!line.startsWith('GET /announce ')) return undefined;
  return new Map(
    line
      .split(' ')
      .slice(2)
      .map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] as const),
  );
}

/**
 * The announces of `user`'s peers, by peer_id, from the tracker's transcript: each request line
 * (`GET /announce info_hash=… peer_id=… uploaded=… downloaded=… left=… event=… user=…`,
 * packages/bittorrent tracker/server.ts) and the answer that follows it on that connection
 * (`200 interval=… peers=[ip:port …]`).
 */
export function announcesOf(events: TranscriptEvent[], user: string): Map<string, AnnouncedPeer> {
  const peers = new Map<string, AnnouncedPeer>();
  const waiting = new Map<string, AnnouncedPeer | null>();
  for (const e of events) {
    if (e.type !== 'line') continue;
    if (e.dir === 'C') {
      const fields = announceFields(e.line);
      const id = fields?.get('peer_id');
      if (!fields || fields.get('user') !== user || !id) {
        waiting.set(e.session, null);
        continue;
      }
      const peer = peers.get(id) ?? { downloaded: 0, uploaded: 0, completed: false, handed: new Set() };
      const downloaded = Number(fields.get('downloaded')) || 0;
      peer.downloaded = Math.max(peer.downloaded, downloaded);
      peer.uploaded = Math.max(peer.uploaded, Number(fields.get('uploaded')) || 0);
      if (fields.get('event') === 'completed' || (fields.get('left') === '0' && downloaded > 0))
        peer.completed = true;
      peers.set(id, peer);
      waiting.set(e.session, peer);
    } else {
      const peer = waiting.get(e.session);
      waiting.delete(e.session);
      const list = /\bpeers=\[([^\]]*)\]/.exec(e.line)?.[1];
      if (peer && list) for (const address of list.split(' ').filter(Boolean)) peer.handed.add(address);
    }
  }
  return peers;
}
