// The class board's two small parts that need no lab: who is connected and whose work an event may
// have changed (ClassSessions, fed transcript events as the servers write them), and which
// connections the web app made itself (OwnConnections, over real sockets).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { TranscriptEvent } from '@portlab/transcript';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnConnections } from '../src/class/own-connections.js';
import { ClassSessions } from '../src/class/sessions.js';

const ts = (s: number) => new Date(Date.UTC(2026, 11, 6, 10, 0, s)).toISOString();
let clock = 0;

function open(service: string, session: string, peer = '192.0.2.7:50000'): TranscriptEvent {
  return {
    ts: ts(clock++),
    type: 'open',
    service,
    port: 1,
    session,
    peer,
    from: peer,
    to: '192.0.2.1:1',
    role: 'server',
  };
}
const close = (service: string, session: string): TranscriptEvent =>
  ({
    ...(open(service, session) as object),
    type: 'close',
  }) as TranscriptEvent;
const line = (service: string, session: string, dir: 'C' | 'S', text: string): TranscriptEvent => ({
  ts: ts(clock++),
  type: 'line',
  service,
  port: 1,
  session,
  peer: '192.0.2.7:50000',
  dir,
  line: text,
});
const login = (service: string, session: string, user: string | null, ok: boolean): TranscriptEvent => ({
  ts: ts(clock++),
  type: 'login',
  service,
  port: 1,
  session,
  peer: '192.0.2.7:50000',
  user,
  ok,
});

describe('ClassSessions', () => {
  it('lists a session under its account from its login on, until its close', () => {
    const s = new ClassSessions('lab.test');
    s.receive(open('imap', 'a.1'));
    expect(s.connectionsOf('e07')).toEqual([]);
    expect(s.receive(login('imap', 'a.1', 'e07', true))).toEqual({ accounts: ['e07'] });
    expect(s.connectionsOf('e07')).toEqual([
      { service: 'imap', since: ts(clock - 2), peer: '192.0.2.7:50000' },
    ]);
    expect(s.receive(close('imap', 'a.1'))).toEqual({ accounts: ['e07'] });
    expect(s.connectionsOf('e07')).toEqual([]);
  });

  it('connects nobody on a wrong password, nor on a login that names no account', () => {
    const s = new ClassSessions('lab.test');
    s.receive(open('ftp', 'f.1'));
    expect(s.receive(line('ftp', 'f.1', 'C', 'USER e08'))).toEqual({ accounts: [] });
    expect(s.receive(login('ftp', 'f.1', 'e08', false))).toEqual({ accounts: [] });
    s.receive(login('ftp', 'f.1', null, false));
    expect(s.connectionsOf('e08')).toEqual([]);
    expect(s.accountOf('f.1')).toBeNull();
  });

  it("says a message touches its sender and its recipients in this lab's domain, not another domain's", () => {
    const s = new ClassSessions('lab.test');
    s.receive(open('submission', 's.1'));
    s.receive(login('submission', 's.1', 'e01', true));
    s.receive(line('submission', 's.1', 'C', 'MAIL FROM:<e01@lab.test>'));
    s.receive(line('submission', 's.1', 'C', 'RCPT TO:<e02@lab.test>'));
    s.receive(line('submission', 's.1', 'C', 'RCPT TO:<e03@elsewhere.example>'));
    const touched = s.receive(line('submission', 's.1', 'S', '250 OK: queued'));
    expect(touched !== 'all' && touched.accounts.sort()).toEqual(['e01', 'e02']);
    // Port 25 takes mail without a login: the recipients alone.
    s.receive(open('smtp', 'm.1'));
    s.receive(line('smtp', 'm.1', 'C', 'RCPT TO: <E04@LAB.TEST>'));
    expect(s.receive(line('smtp', 'm.1', 'S', '250 Accepted'))).toEqual({ accounts: ['e04'] });
  });

  it("makes a message's reading count for its sender too (lab 2: its recipient has read it)", () => {
    const s = new ClassSessions('lab.test');
    s.receive(open('submission', 's.1'));
    s.receive(login('submission', 's.1', 'e01', true));
    s.receive(line('submission', 's.1', 'C', 'RCPT TO:<e02@lab.test>'));
    s.receive(open('imap', 'i.1'));
    s.receive(login('imap', 'i.1', 'e02', true));
    // IDLE: a new message announced; nothing read yet, nobody else's item changes.
    expect(s.receive(line('imap', 'i.1', 'C', 'a IDLE'))).toEqual({ accounts: ['e02'] });
    expect(s.receive(line('imap', 'i.1', 'S', '* 1 EXISTS'))).toEqual({ accounts: ['e02'] });
    expect(s.receive(line('imap', 'i.1', 'C', 'DONE'))).toEqual({ accounts: ['e02'] });
    // Marked read, by STORE or by fetching the body: the sender's item too, up to the answer.
    for (const command of ['b UID STORE 1 +FLAGS.SILENT (\\Seen)', 'c FETCH 1 (BODY[] FLAGS)']) {
      const touched = s.receive(line('imap', 'i.1', 'C', command));
      expect(touched !== 'all' && touched.accounts.sort()).toEqual(['e01', 'e02']);
      const answered = s.receive(line('imap', 'i.1', 'S', `${command[0]} OK done`));
      expect(answered !== 'all' && answered.accounts.sort()).toEqual(['e01', 'e02']);
    }
    expect(s.receive(line('imap', 'i.1', 'C', 'd FETCH 1 (BODY.PEEK[HEADER])'))).toEqual({
      accounts: ['e02'],
    });
    // POP3 marks what was retrieved at QUIT.
    s.receive(open('pop3', 'p.2'));
    s.receive(login('pop3', 'p.2', 'e02', true));
    expect(s.receive(line('pop3', 'p.2', 'C', 'STAT'))).toEqual({ accounts: ['e02'] });
    const quit = s.receive(line('pop3', 'p.2', 'C', 'QUIT'));
    expect(quit !== 'all' && quit.accounts.sort()).toEqual(['e01', 'e02']);
    // e03 got no mail from anyone: its reading is its own.
    s.receive(open('pop3', 'p.1'));
    expect(s.receive(login('pop3', 'p.1', 'e03', true))).toEqual({ accounts: ['e03'] });
  });

  it('gives a web request to the account whose /~user/ page it asks for, and the board its own to nobody', () => {
    const s = new ClassSessions('lab.test');
    expect(s.receive(open('http', 'w.1'))).toEqual({ accounts: [] });
    expect(s.receive(line('http', 'w.1', 'C', 'HEAD /~e05/ HTTP/1.1'))).toEqual({ accounts: ['e05'] });
    expect(s.receive(line('http', 'w.1', 'S', 'HTTP/1.1 200 OK'))).toEqual({ accounts: ['e05'] });
    expect(s.receive(line('http', 'w.1', 'C', 'GET /%7Ee06/nope.html HTTP/1.1'))).toEqual({
      accounts: ['e06'],
    });
    expect(s.receive(line('http', 'w.1', 'S', 'HTTP/1.1 404 Not Found'))).toEqual({ accounts: ['e06'] });
    expect(s.receive(line('http', 'w.1', 'C', 'GET /api/class HTTP/1.1'))).toEqual({ accounts: [] });
    expect(s.receive(line('http', 'w.1', 'S', 'HTTP/1.1 200 OK'))).toEqual({ accounts: [] });
    expect(s.receive(line('https', 'w.2', 'C', 'GET /~E07x/ HTTP/1.1'))).toEqual({ accounts: ['e07x'] });
    expect(s.receive(line('http', 'w.3', 'C', 'GET /~../etc HTTP/1.1'))).toEqual({ accounts: [] });
    expect(s.receive(line('http', 'w.3', 'C', 'GET /%E0%A4%A HTTP/1.1'))).toEqual({ accounts: [] });
    // Signing in on the web app proves the PC is e08's: lab 4 then counts its requests.
    expect(s.receive(line('http', 'w.4', 'C', 'POST /api/session HTTP/1.1'))).toEqual({ accounts: [] });
    expect(s.receive(login('http', 'w.4', 'e08', true))).toEqual({ accounts: ['e08'] });
    expect(s.receive(login('http', 'w.4', 'e09', false))).toEqual({ accounts: [] });
  });

  it("gives an announce to the account it names; the peer wire and the tracker's other lines to nobody", () => {
    const s = new ClassSessions('lab.test');
    const announce = 'GET /announce info_hash=ab peer_id=-PL0001- uploaded=0 downloaded=0 left=10 user=e08';
    expect(s.receive(line('tracker', 't.1', 'C', announce))).toEqual({ accounts: ['e08'] });
    expect(s.receive(line('tracker', 't.1', 'S', '200 interval=60 peers=[10.0.0.2:6881]'))).toEqual({
      accounts: ['e08'],
    });
    expect(s.receive(line('tracker', 't.2', 'C', 'GET /announce info_hash=ab left=0'))).toEqual({
      accounts: [],
    });
    expect(s.receive(line('peer', 'p.1', 'C', 'handshake'))).toEqual({ accounts: [] });
    // A service this board does not know of: everybody's, to be safe.
    expect(s.receive(line('gopher', 'g.1', 'C', '/'))).toBe('all');
  });

  it('forgets the connections of a service that stopped (its process may not have written their close)', () => {
    const s = new ClassSessions('lab.test');
    s.receive(open('pop3', 'p.1'));
    s.receive(login('pop3', 'p.1', 'e09', true));
    s.receive(open('imap', 'i.1'));
    s.receive(login('imap', 'i.1', 'e09', true));
    s.receive({ ts: ts(clock++), type: 'service', service: 'pop3', port: 1, state: 'stopped' });
    expect(s.connectionsOf('e09').map((c) => c.service)).toEqual(['imap']);
  });
});

describe('OwnConnections', () => {
  let server: Server;
  const own = new OwnConnections();
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A server that answers each request with the client's end as it sees it ("ip:port"). */
  async function echoPeer(): Promise<number> {
    server = createServer((req, res) => res.end(`${req.socket.remoteAddress}:${req.socket.remotePort}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  it("knows a connection this process made (fetch), not another process's (curl)", async () => {
    const port = await echoPeer();
    const mine = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(own.has(mine)).toBe(true);
    const theirs = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', `http://127.0.0.1:${port}/`], (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    expect(theirs).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(own.has(theirs)).toBe(false);
    expect(own.has('192.0.2.7:50000')).toBe(false);
  });
});
