import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Flag, type LineData, type Session, Transcript } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
import { commandData, replyData } from '../../files/dist/line-data.js';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { SwarmModel } from '../public/js/swarm-model.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/**
 * An FTP control session as the files app writes it: each command and reply line with its `data`
 * (apps/files/src/line-data.ts, the app's own functions), the data connection's lines as
 * data-log.ts writes them; each event then stamped at the second given: `[second, write]`.
 */
function ftpSession(steps: [number, (s: Session) => void][]) {
  const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-ftp-')), 'log');
  const transcript = new Transcript('ftp', 8021, { logDir });
  const session = transcript.accepted({
    remoteAddress: '127.0.0.1',
    remotePort: 50_000,
    localAddress: '127.0.0.1',
    localPort: 8021,
  });
  // As control.ts calls them: ftp-srv's directive (the first word, upper case) and the line as sent.
  const asTheAppWrites = {
    client: (line: string) =>
      session.client(line, undefined, commandData(line.split(' ')[0]!.toUpperCase(), line)),
    server: (line: string, flags?: Flag[], data?: LineData) =>
      session.server(line, flags, data ?? replyData(line)),
    close: () => session.close(),
  } as Session;
  const seconds: number[] = [0];
  for (const [second, write] of steps) {
    write(asTheAppWrites);
    seconds.push(second);
  }
  transcript.flush();
  return readFileSync(path.join(logDir, 'ftp.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => ({
      ...JSON.parse(line),
      id: `f${i}`,
      ts: new Date(T0 + seconds[i]! * 1000).toISOString(),
    }));
}

const dataClose = (sent: number, ms: number) => (s: Session) =>
  s.server(`data connection closed: ${sent} bytes sent`, ['data'], {
    event: 'data-close',
    sent,
    received: 0,
    ms,
  });

describe('the FTP time on the chart runs from the command to the last byte, as lab 05 prints it', () => {
  it('ends at the client’s next word, not when the server’s data connection closed', () => {
    // The server had every byte in its socket buffers at 17 s; the client read the last at 20 s.
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpSession([
        [1, (s) => s.client('USER alice')],
        [2, (s) => s.client('RETR lab05.bin')],
        [2, (s) => s.server('150 Sending /lab05.bin')],
        [19, (s) => s.server('226 /lab05.bin: 20000000 bytes sent')],
        [19, dataClose(20_000_000, 17_000)],
        [22, (s) => s.client('QUIT')],
      ]),
    );
    expect(swarm.comparison().ftp).toMatchObject({
      name: 'lab05.bin',
      bytes: 20_000_000,
      ms: 20_000,
      confirmed: true,
    });
  });

  it('shows the server’s figure as a lower bound while the client says nothing, then the close ends it', () => {
    const events = ftpSession([
      [2, (s) => s.client('RETR lab05.bin')],
      [19, (s) => s.server('226 /lab05.bin: 20000000 bytes sent')],
      [19, dataClose(20_000_000, 17_000)],
      [30, (s) => s.close()],
    ]);
    const swarm = new SwarmModel();
    swarm.addEvents(events.slice(0, -1));
    expect(swarm.comparison().ftp).toMatchObject({ ms: 17_000, confirmed: false });
    swarm.addEvents(events.slice(-1));
    expect(swarm.comparison().ftp).toMatchObject({ ms: 28_000, confirmed: true });
  });

  it('says a download resumed with REST started from that byte', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpSession([
        [1, (s) => s.client('REST 8000000')],
        [2, (s) => s.client('RETR lab05.bin')],
        [10, (s) => s.server('226 /lab05.bin: 12000000 bytes sent')],
        [10, dataClose(12_000_000, 8_000)],
        [14, (s) => s.client('QUIT')],
      ]),
    );
    expect(swarm.comparison().ftp).toMatchObject({ bytes: 12_000_000, rest: 8_000_000, ms: 12_000 });
  });

  it('counts no download for a listing, an upload, or a RETR that sent nothing', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpSession([
        [1, (s) => s.client('LIST')],
        [2, dataClose(300, 5)],
        [3, (s) => s.client('RETR missing.bin')],
        [3, (s) => s.server('550 No such file')],
        [4, (s) => s.client('STOR up.bin')],
        [5, (s) => s.server('226 stored')],
        [
          5,
          (s) =>
            s.server('data connection closed: 0 bytes sent', ['data'], {
              event: 'data-close',
              sent: 0,
              received: 10,
              ms: 3,
            }),
        ],
        [6, (s) => s.client('QUIT')],
      ]),
    );
    expect(swarm.comparison().ftp).toBeFalsy();
  });
});
