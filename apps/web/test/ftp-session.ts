import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Direction, type Flag, type LineData, type Session, Transcript } from '@portlab/transcript';
import { commandData, replyData } from '../../files/dist/line-data.js';

/** What a step of an FTP session writes: as the files app does, or `line` raw (no data). */
export interface FtpWriter {
  client(line: string): void;
  server(line: string, flags?: Flag[], data?: LineData): void;
  /** A line with no data at all, as another program (or an older transcript) may have written it. */
  line(dir: Direction, text: string): void;
  close(): void;
}

/**
 * An FTP control session as the files app writes it, through @portlab/transcript into a real file
 * read back as the web app streams it: each command and reply line with its `data` (the app's own
 * functions, apps/files/src/line-data.ts, called as control.ts calls them), the data connection's
 * lines as data-log.ts writes them. Each event is then stamped at the second given (the connection's
 * open at 0): `[second, write]`, from `t0`.
 */
export function ftpSession(steps: [number, (s: FtpWriter) => void][], t0: number): object[] {
  const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-ftp-')), 'log');
  const transcript = new Transcript('ftp', 8021, { logDir });
  const session: Session = transcript.accepted({
    remoteAddress: '127.0.0.1',
    remotePort: 50_000,
    localAddress: '127.0.0.1',
    localPort: 8021,
  });
  // control.ts passes ftp-srv's directive (the first word, upper case) and the line as sent.
  const writer: FtpWriter = {
    client: (line) => session.client(line, undefined, commandData(line.split(' ')[0]!.toUpperCase(), line)),
    server: (line, flags, data) => session.server(line, flags, data ?? replyData(line)),
    line: (dir, text) => session.line(dir, text),
    close: () => session.close(),
  };
  const seconds: number[] = [0];
  for (const [second, write] of steps) {
    write(writer);
    seconds.push(second);
  }
  transcript.flush();
  return readFileSync(path.join(logDir, 'ftp.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => ({
      ...JSON.parse(line),
      id: `f${i}`,
      ts: new Date(t0 + seconds[i]! * 1000).toISOString(),
    }));
}
