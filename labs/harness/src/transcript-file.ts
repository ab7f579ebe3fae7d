/** A service's whole transcript as it stands on disk ($DATA/log/<service>.ndjson and its rotations), oldest first. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';
import type { LineEvent, TranscriptEvent } from '@portlab/transcript';

export async function readTranscript(config: LabConfig, service: string): Promise<TranscriptEvent[]> {
  const events: TranscriptEvent[] = [];
  for (const name of [3, 2, 1].map((n) => `${service}.${n}.ndjson`).concat(`${service}.ndjson`)) {
    const text = await readFile(path.join(config.paths.log, name), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as TranscriptEvent);
      } catch {
        // A line cut by a crash: skip it, as `portlab watch` does.
      }
    }
  }
  return events;
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
