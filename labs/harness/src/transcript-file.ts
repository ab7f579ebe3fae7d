/** A service's whole transcript as it stands on disk ($DATA/log/<service>.ndjson and its rotations), oldest first. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';
import type { TranscriptEvent } from '@portlab/transcript';

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
