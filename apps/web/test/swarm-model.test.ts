import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transcript } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
import { commandData, replyData } from '../../files/dist/line-data.js';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { SwarmModel } from '../public/js/swarm-model.js';

const T0 = Date.parse('2026-12-01T11:00:00.000Z');

/**
 * FTP lines written by @portlab/transcript into a real transcript file and read back as the web app
 * streams them, one second apart. `said`: [direction, line, data] — the data the files app gives
 * (commandData, replyData), or none, as a line of another program or an old transcript has.
 */
function ftpTranscript(said: ['C' | 'S', string, object | undefined][]): object[] {
  const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-swarm-model-')), 'log');
  const transcript = new Transcript('ftp', 8021, { logDir });
  const session = transcript.accepted({
    remoteAddress: '127.0.0.1',
    remotePort: 50_001,
    localAddress: '127.0.0.1',
    localPort: 8021,
  });
  for (const [dir, line, data] of said)
    session.line(dir, line, [], data as Parameters<typeof session.line>[3]);
  transcript.flush();
  return readFileSync(path.join(logDir, 'ftp.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => ({ ...JSON.parse(line), id: `m${i}`, ts: new Date(T0 + i * 1000).toISOString() }));
}

const command = (line: string): ['C', string, object] => [
  'C',
  line,
  commandData(line.split(' ')[0]!.toUpperCase(), line),
];
const reply = (line: string): ['S', string, object | undefined] => ['S', line, replyData(line)];
const sent = (bytes: number): ['S', string, object] => [
  'S',
  `data connection closed: ${bytes} bytes sent`,
  { event: 'data-close', sent: bytes, received: 0, ms: 1000 },
];

describe('the swarm model reads FTP from the lines’ data, never from their text (swarm-model.js)', () => {
  it('times a RETR from its command to the client’s next word, as the files app writes them', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpTranscript([
        command('REST 100'),
        reply('350 Restarting at 100'),
        command('retr notes.bin'), // a client may write a verb in lower case (RFC 959 §5.3)
        reply('150 Opening data connection'),
        reply('226 Transfer complete'),
        sent(900),
        command('QUIT'),
      ]),
    );
    // The connection opens at 0 s: REST at 1 s, RETR at 3 s, QUIT at 7 s.
    expect(swarm.comparison().ftp).toEqual({
      name: 'notes.bin',
      bytes: 900,
      ms: 4000,
      ts: new Date(T0 + 7000).toISOString(),
      rest: 100,
      confirmed: true,
      sources: 1,
    });
  });

  it('counts nothing for lines that only say RETR and 226 in their text, with no data', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpTranscript([
        ['C', 'RETR notes.bin', undefined],
        ['S', '226 Transfer complete', undefined],
        sent(900),
        ['C', 'QUIT', undefined],
      ]),
    );
    expect(swarm.comparison().ftp).toBeFalsy();
  });

  it('takes no resume from a malformed REST (no number), and no download from a refused RETR (550)', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpTranscript([
        command('REST abc'),
        reply('501 Bad offset'),
        command('RETR missing.bin'),
        reply('550 No such file'),
        command('RETR notes.bin'),
        reply('226 Transfer complete'),
        sent(500),
        command('QUIT'),
      ]),
    );
    expect(swarm.comparison().ftp).toMatchObject({ name: 'notes.bin', bytes: 500, rest: 0, confirmed: true });
  });

  it('gives a password no place in the data: PASS is a command with its verb alone', () => {
    expect(commandData('PASS', 'PASS s3cret')).toEqual({ event: 'command', verb: 'PASS' });
    expect(commandData('RETR', 'RETR a b.bin')).toEqual({ event: 'command', verb: 'RETR', arg: 'a b.bin' });
    expect(commandData('REST', 'REST 12')).toEqual({ event: 'command', verb: 'REST', offset: 12 });
    expect(replyData('226-first line of two')).toEqual({ event: 'reply', code: 226 });
    expect(replyData('data connection open (passive)')).toBeUndefined();
  });
});
