import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type LabConfig, matrixServerName } from '@portlab/config';
import type { KeyLookup, LogLine, SigningKey } from '@portlab/matrix';
import type { FastifyInstance } from 'fastify';
import { matrix, RemoteKeys } from '../chat-keys.js';
import type { SignIns } from '../sign-ins.js';
import { viewerOf } from '../viewer.js';

/**
 * GET /api/chat/rooms: the chat app's rooms for the dashboard's chat panel (lab 07), read from the
 * append-only room logs the chat app writes ($DATA/chat/rooms/<room>.ndjson, one signed PDU a line:
 * the file students `cat`). Read-only, and only the rooms the viewer may see (viewer.ts): the teacher
 * every room; a student signed in the rooms their account is joined to now; nobody else any.
 *
 * For each room: its last events as a graph (each event's `prev_events` are the arrows; its origin,
 * the server part of its sender, is the colour) and whether each event's signature and content hash
 * verify (server-server API, "Validating hashes and signatures on received events"), with the keys
 * this lab has: its own server's ($DATA/chat/signing.key), and another server's fetched from it when
 * it is on loopback or the class network (chat-keys.ts). An event whose server's key cannot be had is
 * shown with `verified: null`. No message bodies: only what the graph needs (the panel is projected
 * to the class).
 */

/** Events per room the panel draws: the newest ones. */
const EVENTS_PER_ROOM = 40;
/** Rooms at most in one answer. */
const MAX_ROOMS = 50;
/** A log larger than this is read from its end only (the bench writes thousands of messages). */
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface ChatEventView {
  id: string;
  type: string;
  sender: string;
  /** The server that made it: the domain of its sender. */
  origin: string;
  depth: number;
  prev: string[];
  /** true: signature and content hash verify; false: they do not; null: no key here for its server. */
  verified: boolean | null;
}

/** The lines of a room log, at most the last MAX_READ_BYTES of it (whole lines only). */
async function readLog(file: string): Promise<LogLine[]> {
  const size = (await stat(file)).size;
  let text: string;
  if (size <= MAX_READ_BYTES) text = await readFile(file, 'utf8');
  else {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_READ_BYTES);
      await handle.read(buffer, 0, MAX_READ_BYTES, size - MAX_READ_BYTES);
      text = buffer.toString('utf8');
      text = text.slice(text.indexOf('\n') + 1); // the first line is cut
    } finally {
      await handle.close();
    }
  }
  return (await matrix()).parseLogLines(text);
}

/** Whether `user` is joined to the room now: their last membership event in the log says join. */
function joined(lines: LogLine[], user: string): boolean {
  let membership: unknown;
  for (const l of lines)
    if (!l.rejected && l.pdu.type === 'm.room.member' && l.pdu.state_key === user)
      membership = l.pdu.content.membership;
  return membership === 'join';
}

export function chatRoutes(app: FastifyInstance, config: LabConfig, signIns: SignIns): void {
  const dir = path.join(config.dataDir, 'chat', 'rooms');
  const server = matrixServerName(config);
  // Verification results by event ID (an ID is the hash of the event: the same ID, the same event).
  const verified = new Map<string, boolean | null>();
  let key: SigningKey | undefined;

  const ownKey = async () => {
    key ??= await readFile(path.join(config.dataDir, 'chat', 'signing.key'), 'utf8')
      .then(async (text) => (await matrix()).parseSigningKey(text))
      .catch(() => undefined);
    return key;
  };

  const remote = new RemoteKeys(config.publicAddress);

  /** true/false: the event's signature and content hash verify or not; null: no key for its server. */
  const check = async (line: LogLine): Promise<boolean | null> => {
    const known = verified.get(line.event_id);
    if (known !== undefined) return known;
    const { domainOf, verifyEvent } = await matrix();
    const origin = domainOf(line.pdu.sender);
    let lookup: KeyLookup;
    if (origin === server) {
      const k = await ownKey();
      if (!k) return null;
      lookup = (name, keyId) => (name === server && keyId === k.keyId ? k.publicKeyBase64 : undefined);
    } else {
      const keys = await remote.of(origin);
      if (!keys) return null; // asked again later: the neighbour's server may be stopped now
      lookup = (name, keyId) =>
        name === origin ? (keys.verifyKeys.get(keyId) ?? keys.oldKeys.get(keyId)?.key) : undefined;
    }
    const v = await verifyEvent(line.pdu, lookup);
    const result = v.ok && v.eventId === line.event_id;
    if (verified.size > 50_000) verified.clear();
    verified.set(line.event_id, result);
    return result;
  };

  app.get('/api/chat/rooms', async (request, reply) => {
    const viewer = viewerOf(request, config, signIns);
    if (!viewer.teacher && viewer.account === null) {
      return reply.code(403).send({
        error:
          'the chat rooms are shown to the teacher (the lab machine’s browser) and to their members signed in: sign in on /lab to see yours',
      });
    }
    const { domainOf } = await matrix();
    const me = viewer.account ? `@${viewer.account}:${server}` : null;
    const names = (await readdir(dir).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.ndjson'))
      .sort();
    const rooms = [];
    for (const name of names) {
      if (rooms.length >= MAX_ROOMS) break;
      const lines = await readLog(path.join(dir, name)).catch(() => [] as LogLine[]);
      if (lines.length === 0) continue;
      if (!viewer.teacher && !(me && joined(lines, me))) continue;
      const timeline = lines.filter((l) => !l.outlier && !l.rejected).slice(-EVENTS_PER_ROOM);
      let roomName: string | null = null;
      for (const l of lines)
        if (l.pdu.type === 'm.room.name' && typeof l.pdu.content.name === 'string')
          roomName = l.pdu.content.name;
      const events: ChatEventView[] = [];
      for (const l of timeline)
        events.push({
          id: l.event_id,
          type: l.pdu.type,
          sender: l.pdu.sender,
          origin: domainOf(l.pdu.sender),
          depth: l.pdu.depth,
          prev: l.pdu.prev_events,
          verified: await check(l),
        });
      rooms.push({ id: lines[0]!.pdu.room_id, name: roomName, server, events });
    }
    return { server, rooms };
  });
}
