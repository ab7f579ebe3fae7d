import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transcript } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { ConnectionNames, shortAgent } from '../public/js/connection-names.js';

const socket = (clientPort: number, serverPort: number) => ({
  remoteAddress: '127.0.0.1',
  remotePort: clientPort,
  localAddress: '127.0.0.1',
  localPort: serverPort,
});

/** Writes a conversation with @portlab/transcript, as the servers do, and reads its events back. */
function conversation(
  service: string,
  port: number,
  clientPort: number,
  lines: string[],
  data?: Record<string, string>,
) {
  const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-names-')), 'log');
  const transcript = new Transcript(service, port, { logDir });
  const session = transcript.accepted(socket(clientPort, port));
  for (const line of lines) session.client(line, [], data);
  transcript.flush();
  const events = readFileSync(path.join(logDir, `${service}.ndjson`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const names = new ConnectionNames();
  for (const event of events) names.apply(event);
  return { names, id: session.id };
}

describe('connections named by client and port, not by session id', () => {
  it('names a connection by its client address and the port it reached', () => {
    const { names, id } = conversation('pop3', 8110, 53_422, ['USER alice']);
    expect(names.nameOf(id)).toBe('127.0.0.1:53422 → POP3 8110');
    expect(names.clientOf(id)).toBe('127.0.0.1:53422');
  });

  it('uses the name an SMTP client gives in EHLO', () => {
    const { names, id } = conversation('smtp', 8025, 50_001, ['EHLO laptop-zoe']);
    expect(names.nameOf(id)).toBe('laptop-zoe (127.0.0.1:50001) → SMTP 8025');
  });

  it('uses the name and version an IMAP client gives in ID (RFC 2971)', () => {
    const { names, id } = conversation('imap', 8143, 50_002, [
      'a1 CAPABILITY',
      'a2 ID ("name" "Thunderbird" "version" "115.3.1")',
    ]);
    expect(names.clientOf(id)).toBe('Thunderbird 115.3.1');
    expect(names.nameOf(id)).toBe('Thunderbird 115.3.1 (127.0.0.1:50002) → IMAP 8143');
  });

  it('uses FTP CLNT, and the User-Agent the web app puts in a request line', () => {
    const ftp = conversation('ftp', 8021, 50_003, ['CLNT FileZilla', 'USER alice']);
    expect(ftp.names.clientOf(ftp.id)).toBe('FileZilla');
    const web = conversation('http', 8080, 50_004, ['GET / HTTP/1.1'], { agent: 'curl/8.5.0' });
    expect(web.names.nameOf(web.id)).toBe('curl 8.5.0 (127.0.0.1:50004) → HTTP 8080');
  });

  it('keeps the address for a client that names nobody, and cuts a name too long to be a label', () => {
    const silent = conversation('imap', 8143, 50_005, ['a1 ID NIL']);
    expect(silent.names.clientOf(silent.id)).toBe('127.0.0.1:50005');
    const long = conversation('smtp', 8025, 50_006, [`EHLO ${'x'.repeat(300)}`]);
    expect(long.names.clientOf(long.id)).toHaveLength(40);
  });

  it('reads the browsers of a class from their User-Agent strings', () => {
    expect(shortAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(
      'Firefox 128',
    );
    expect(
      shortAgent(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
      ),
    ).toBe('Edge 120');
    expect(
      shortAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome 120');
    expect(
      shortAgent(
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      ),
    ).toBe('Safari 17');
    expect(shortAgent('Python-urllib/3.11')).toBe('Python-urllib 3.11');
    expect(shortAgent('')).toBe('');
  });
});
