import { describe, expect, it } from 'vitest';
import { commandData, replyData } from '../../files/dist/line-data.js';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { SwarmModel } from '../public/js/swarm-model.js';
import { type FtpWriter, ftpSession } from './ftp-session.js';

const T0 = Date.parse('2026-12-01T11:00:00.000Z');

const sent = (bytes: number) => (s: FtpWriter) =>
  s.server(`data connection closed: ${bytes} bytes sent`, ['data'], {
    event: 'data-close',
    sent: bytes,
    received: 0,
    ms: 1000,
  });

describe('the swarm model reads FTP from the lines’ data, never from their text (swarm-model.js)', () => {
  it('times a RETR from its command to the client’s next word, with the REST before it', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpSession(
        [
          [1, (s) => s.client('REST 100')],
          [1, (s) => s.server('350 Restarting at 100')],
          [3, (s) => s.client('retr notes.bin')], // a client may write a verb in lower case (RFC 959 §5.3)
          [3, (s) => s.server('150 Opening data connection')],
          [6, (s) => s.server('226 Transfer complete')],
          [6, sent(900)],
          [7, (s) => s.client('QUIT')],
        ],
        T0,
      ),
    );
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
      ftpSession(
        [
          [1, (s) => s.line('C', 'RETR notes.bin')],
          [2, (s) => s.line('S', '226 Transfer complete')],
          [2, sent(900)],
          [3, (s) => s.line('C', 'QUIT')],
        ],
        T0,
      ),
    );
    expect(swarm.comparison().ftp).toBeFalsy();
  });

  it('takes no resume from a malformed REST (no number), and no download from a refused RETR (550)', () => {
    const swarm = new SwarmModel();
    swarm.addEvents(
      ftpSession(
        [
          [1, (s) => s.client('REST abc')],
          [1, (s) => s.server('501 Bad offset')],
          [2, (s) => s.client('RETR missing.bin')],
          [2, (s) => s.server('550 No such file')],
          [3, (s) => s.client('RETR notes.bin')],
          [4, (s) => s.server('226 Transfer complete')],
          [4, sent(500)],
          [5, (s) => s.client('QUIT')],
        ],
        T0,
      ),
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
