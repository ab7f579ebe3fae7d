// readTranscript as the web app uses it for the class's checks: called again and again, it reads only
// what was appended (a half-written last line waits for its end), and starts again on a rotated file.
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readTranscript } from '@portlab/labs';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configOf } from './helpers.js';

let lab: TempLab;
beforeAll(async () => {
  lab = await tempLab();
});
afterAll(() => lab.cleanup());

const line = (n: number) =>
  `${JSON.stringify({ ts: '2026-12-06T10:00:00.000Z', type: 'line', service: 'ftp', port: 21, session: 'a.1', peer: '127.0.0.1:1', dir: 'C', line: `NOOP ${n}` })}\n`;
const said = (events: { type: string; line?: string }[]) => events.map((e) => e.line);

describe('readTranscript: read again, only what was appended', () => {
  it('appends, a half-written line, a rotation', async () => {
    const config = configOf(lab);
    const log = config.paths.log;
    mkdirSync(log, { recursive: true });
    const file = path.join(log, 'ftp.ndjson');
    expect(await readTranscript(config, 'ftp')).toEqual([]);

    writeFileSync(file, line(1) + line(2));
    expect(said(await readTranscript(config, 'ftp'))).toEqual(['NOOP 1', 'NOOP 2']);

    // A server writing line 4 now: only its first half is on disk yet.
    const four = line(4);
    appendFileSync(file, line(3) + four.slice(0, 20));
    expect(said(await readTranscript(config, 'ftp'))).toEqual(['NOOP 1', 'NOOP 2', 'NOOP 3']);
    appendFileSync(file, four.slice(20));
    expect(said(await readTranscript(config, 'ftp'))).toEqual(['NOOP 1', 'NOOP 2', 'NOOP 3', 'NOOP 4']);

    // Rotation: the file becomes ftp.1.ndjson, a new one starts.
    renameSync(file, path.join(log, 'ftp.1.ndjson'));
    writeFileSync(file, line(5));
    expect(said(await readTranscript(config, 'ftp'))).toEqual([
      'NOOP 1',
      'NOOP 2',
      'NOOP 3',
      'NOOP 4',
      'NOOP 5',
    ]);
  });
});
