import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LineData, Transcript } from '@portlab/transcript';
import { createMetainfo, createTracker, type Metainfo, PeerNode, parseMetainfo } from '../src/index.js';

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A file of random bytes (nothing compresses or repeats: every piece is different). */
export function randomFile(dir: string, name: string, size: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

/** A tracker on `port` (0: any) of 127.0.0.1; returns its announce URL. */
export async function startTracker(logDir: string, port = 0) {
  const tracker = createTracker({ transcript: new Transcript('tracker', port, { logDir }), interval: 30 });
  await new Promise<void>((resolve) => tracker.server.listen(port, '127.0.0.1', resolve));
  const bound = (tracker.server.address() as { port: number }).port;
  return { ...tracker, url: `http://127.0.0.1:${bound}/announce`, port: bound };
}

export async function torrentFor(
  file: string,
  announce: string,
): Promise<{ meta: Metainfo; torrentFile: string }> {
  const bytes = await createMetainfo(file, { announce });
  const torrentFile = `${file}.torrent`;
  writeFileSync(torrentFile, bytes);
  return { meta: parseMetainfo(bytes), torrentFile };
}

/** A peer on a free port of 127.0.0.1, logging to `logDir`. */
export async function startNode(logDir: string, uploadRate?: number): Promise<PeerNode> {
  const node = new PeerNode({
    host: '127.0.0.1',
    port: 0,
    transcript: new Transcript('peer', 0, { logDir }),
    ...(uploadRate ? { uploadRate } : {}),
  });
  await node.listen();
  return node;
}

/** The line events of a service's transcript. */
function lineEvents(logDir: string, service: string): { line: string; data?: LineData }[] {
  Transcript.prototype.flush.call(new Transcript(service, 0, { logDir }));
  const text = readFileSync(path.join(logDir, `${service}.ndjson`), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; line: string; data?: LineData })
    .filter((e) => e.type === 'line');
}

/** Lines of a service's transcript. */
export function transcriptLines(logDir: string, service: string): string[] {
  return lineEvents(logDir, service).map((e) => e.line);
}

/** The `data` of a service's transcript lines that have one. */
export function transcriptData(logDir: string, service: string): LineData[] {
  return lineEvents(logDir, service).flatMap((e) => (e.data ? [e.data] : []));
}
