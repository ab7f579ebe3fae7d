import { describe, expect, it } from 'vitest';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { SwarmModel } from '../public/js/swarm-model.js';
import { type FtpWriter, ftpSession as ftpLines } from './ftp-session.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

const ftpSession = (steps: Parameters<typeof ftpLines>[0]) => ftpLines(steps, T0);

const dataClose = (sent: number, ms: number) => (s: FtpWriter) =>
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
