/**
 * Two servers' copies of one room, side by side (lab 07): which events each holds, in its own
 * order, and whether each event's signature verifies.
 *
 *   node apps/chat/dist/federation/compare.js '!room:127.0.0.1:8448' var var-b
 *
 * It reads the room's NDJSON log in each data dir ($DATA/chat/rooms, the file students can `cat`)
 * and the servers' public keys from each $DATA/chat/signing.key, so it works with the servers
 * stopped. An event is ✔ when the key its origin names verifies its signature and content hash.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSigningKey, roomFileName, type SigningKey, verifyEvent } from '@portlab/matrix';

interface Line {
  event_id: string;
  pdu: { type: string; sender: string; content: Record<string, unknown>; depth: number };
  rejected?: string;
  outlier?: boolean;
}

export async function compareCopies(roomId: string, dataDirs: string[]): Promise<string> {
  const keys: SigningKey[] = [];
  for (const dir of dataDirs) {
    // Read only: a data dir without a key is a server that never started (its copy is empty).
    try {
      keys.push(parseSigningKey(readFileSync(path.join(dir, 'chat', 'signing.key'), 'utf8')));
    } catch {}
  }
  // The key IDs are random per server ("ed25519:a_XyZ1"): found by ID in the data dirs given.
  const lookup = (_server: string, keyId: string) => keys.find((k) => k.keyId === keyId)?.publicKeyBase64;
  const copies = dataDirs.map((dir) => readCopy(dir, roomId));
  const all = new Map<string, Line>();
  for (const copy of copies)
    for (const line of copy) if (!all.has(line.event_id)) all.set(line.event_id, line);
  const rows = [...all.values()].sort((x, y) => x.pdu.depth - y.pdu.depth);
  const out: string[] = [`${'event'.padEnd(16)} ${dataDirs.map((d) => d.padEnd(10)).join(' ')} what`];
  for (const line of rows) {
    const v = await verifyEvent(line.pdu, lookup);
    const marks = copies.map((c) => {
      const here = c.find((l) => l.event_id === line.event_id);
      const mark = !here ? '—' : here.rejected ? 'rejected' : v.ok ? '✔' : '✘';
      return mark.padEnd(10);
    });
    const body = typeof line.pdu.content.body === 'string' ? ` "${line.pdu.content.body.slice(0, 40)}"` : '';
    out.push(`${line.event_id.slice(0, 15)}… ${marks.join(' ')} ${line.pdu.type} ${line.pdu.sender}${body}`);
  }
  const same = copies.every((c) => c.length === all.size);
  out.push(same ? 'identical: every copy holds every event' : 'the copies differ (— : missing there)');
  return out.join('\n');
}

function readCopy(dataDir: string, roomId: string): Line[] {
  try {
    const text = readFileSync(path.join(dataDir, 'chat', 'rooms', roomFileName(roomId)), 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
  } catch {
    return [];
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [roomId, ...dirs] = process.argv.slice(2);
  if (!roomId || dirs.length < 1) {
    console.error('usage: node apps/chat/dist/federation/compare.js ROOM_ID DATA_DIR [DATA_DIR…]');
    process.exit(2);
  }
  console.log(await compareCopies(roomId, dirs));
}
