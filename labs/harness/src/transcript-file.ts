/**
 * A service's whole transcript as it stands on disk ($DATA/log/<service>.ndjson and its rotations),
 * oldest first. The web app runs the checks of a whole class again and again (the teacher's board),
 * so each file's events are kept, with the file's identity and how far it was read: the next call
 * reads only what was appended since (transcripts only grow, until rotated: a new file).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { type LabConfig, servicesOf } from '@portlab/config';
import { hostOfEndpoint, type LineEvent, type TranscriptEvent } from '@portlab/transcript';

interface Read {
  ino: number;
  /** Bytes parsed: up to the last whole line. */
  offset: number;
  events: TranscriptEvent[];
}

const cache = new Map<string, Read>();

export async function readTranscript(config: LabConfig, service: string): Promise<TranscriptEvent[]> {
  const events: TranscriptEvent[] = [];
  for (const name of [3, 2, 1].map((n) => `${service}.${n}.ndjson`).concat(`${service}.ndjson`)) {
    events.push(...(await readFileEvents(path.join(config.paths.log, name))));
  }
  return events;
}

async function readFileEvents(file: string): Promise<TranscriptEvent[]> {
  const info = await stat(file).catch(() => null);
  if (!info) {
    cache.delete(file);
    return [];
  }
  let read = cache.get(file);
  if (!read || read.ino !== info.ino || info.size < read.offset)
    read = { ino: info.ino, offset: 0, events: [] };
  if (info.size > read.offset) {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(info.size - read.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, read.offset);
      // Only whole lines: a server may be writing the last one now.
      const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
      for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          read.events.push(JSON.parse(line) as TranscriptEvent);
        } catch {
          // A line cut by a crash: skip it, as `portlab watch` does.
        }
      }
      read.offset += end;
    } finally {
      await handle.close();
    }
  }
  cache.set(file, read);
  return read.events;
}

/**
 * Who did what: the lines of the sessions logged in as `user`. Every protocol writes a `login` event
 * to the session when a password is checked (LoginThrottle.authenticate, docs/architecture.md
 * "Transcripts"); a line counts for the account the session was logged in as when it was said, so a
 * session that logs in again as someone else (FTP allows USER after a login) changes hands there.
 * A `USER x` line alone proves nothing: anyone can type it, with a wrong password.
 */
export function linesOf(events: TranscriptEvent[], user: string): LineEvent[] {
  const account = new Map<string, string | null>();
  const lines: LineEvent[] = [];
  for (const e of events) {
    if (e.type === 'login') account.set(e.session, e.ok ? e.user : null);
    else if (e.type === 'line' && account.get(e.session) === user) lines.push(e);
  }
  return lines;
}

/** The apps that check passwords, so write `login` events: mail, files, the web (sign-in, checks), chat. */
const LOGIN_APPS = ['mail', 'files', 'web', 'chat'] as const;

/**
 * The addresses `user` logged in from, with a right password, on any service: the PCs that are
 * theirs. A protocol with no login (HTTP asking for a page) is known to be a student's by its source
 * being one of these (lab 4's check): on a class LAN, a classmate's PC is not one. Behind one NAT
 * address every student has the same, and the check falls back to the path alone.
 */
export async function loginAddresses(config: LabConfig, user: string): Promise<Set<string>> {
  const addresses = new Set<string>();
  for (const app of LOGIN_APPS) {
    for (const { name } of servicesOf(app)) {
      for (const e of await readTranscript(config, name)) {
        if (e.type === 'login' && e.ok && e.user === user) addresses.add(hostOfEndpoint(e.peer));
      }
    }
  }
  return addresses;
}
