// The two pure parts of "whose password is this": the mask, and the attribution of credentials lines
// to the login try they belong to, event by event. No server needed.
import type { LineEvent, TranscriptEvent } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
import { MASK, maskContent, maskSecret, visibleTo } from '../src/mask.js';
import { type AttributedEvent, SecretOwners } from '../src/secret-owners.js';
import { SessionAccounts } from '../src/session-accounts.js';

describe('maskSecret', () => {
  it.each([
    ['PASS zoe-Secret1', `PASS ${MASK}`],
    ['pass zoe-Secret1', `pass ${MASK}`],
    ['a LOGIN zoe secret', `a LOGIN zoe ${MASK}`],
    ['a1 login "zoe" "pass word"', `a1 login "zoe" ${MASK}`],
    ['a LOGIN {3}', `a LOGIN ${MASK}`],
    ['a LOGIN onlyapassword', `a LOGIN ${MASK}`],
    ['a AUTHENTICATE PLAIN AHpvZQB4', `a AUTHENTICATE PLAIN ${MASK}`],
    ['AUTH PLAIN AHpvZQB4', `AUTH PLAIN ${MASK}`],
    ['AUTH LOGIN em9l', `AUTH LOGIN ${MASK}`],
    ['em9lLVNlY3JldDE=', MASK],
    ['{11 bytes of message data}', MASK],
    // A password typed where a mechanism goes is not kept as one.
    ['AUTH zoe-Secret1', MASK],
    ['AUTH zoe-Secret1 more', MASK],
  ])('%s -> %s', (line, masked) => expect(maskSecret(line)).toBe(masked));

  it('leaves a line that names a mechanism and holds no secret', () => {
    for (const line of ['AUTH LOGIN', 'auth plain', 'a AUTHENTICATE PLAIN', 'PASS']) {
      expect(maskSecret(line)).toBe(line);
    }
  });
});

const base = { ts: '2026-01-01T10:00:00.000Z', service: 'ftp', port: 21, peer: '10.0.0.5:40000' };
const line = (session: string, dir: 'C' | 'S', text: string, credentials = false): TranscriptEvent => ({
  ...base,
  type: 'line',
  session,
  dir,
  line: text,
  ...(credentials ? { flags: ['credentials' as const] } : {}),
});
const login = (session: string, user: string | null, ok: boolean): TranscriptEvent => ({
  ...base,
  type: 'login',
  session,
  user,
  ok,
});
const close = (session: string): TranscriptEvent => ({
  ...base,
  type: 'close',
  session,
  from: base.peer,
  to: '10.0.0.1:21',
  role: 'server',
});

function attribute(events: TranscriptEvent[]): AttributedEvent[] {
  const out: AttributedEvent[] = [];
  const owners = new SecretOwners((e) => out.push(e));
  for (const e of events) owners.receive(e);
  return out;
}

const summary = (out: AttributedEvent[]) =>
  out.map(({ event, owner }) => {
    const text = event.type === 'line' ? event.line : event.type;
    return owner === undefined ? text : `${text} <${owner}>`;
  });

describe('SecretOwners', () => {
  it("gives a credentials line to the login try that follows it, failed ones too, in the session's order", () => {
    const out = attribute([
      line('s1', 'C', 'USER zoe'),
      line('s1', 'S', '331 Password required'),
      line('s1', 'C', 'PASS typo', true),
      line('s2', 'C', 'USER bob'), // another session goes on meanwhile
      login('s1', 'zoe', false),
      line('s1', 'S', '530 Login incorrect'),
      line('s1', 'C', 'USER zoe'),
      line('s1', 'C', 'PASS right', true),
      login('s1', 'zoe', true),
    ]);
    expect(summary(out)).toEqual([
      'USER zoe',
      '331 Password required',
      'USER bob',
      'PASS typo <zoe>',
      'login',
      '530 Login incorrect',
      'USER zoe',
      'PASS right <zoe>',
      'login',
    ]);
  });

  it('holds an AUTH LOGIN exchange, server prompts included, until the login names the account', () => {
    const out = attribute([
      line('s1', 'C', 'AUTH LOGIN', true),
      line('s1', 'S', '334 VXNlcm5hbWU6'),
      line('s1', 'C', 'em9l', true),
      line('s1', 'S', '334 UGFzc3dvcmQ6'),
    ]);
    expect(out).toEqual([]); // nothing of the session leaves before its owner is known
    const rest = attribute([
      line('s1', 'C', 'AUTH LOGIN', true),
      line('s1', 'S', '334 VXNlcm5hbWU6'),
      line('s1', 'C', 'em9l', true),
      line('s1', 'S', '334 UGFzc3dvcmQ6'),
      line('s1', 'C', 'c2VjcmV0', true),
      login('s1', 'zoe', false),
    ]);
    expect(summary(rest)).toEqual([
      'AUTH LOGIN <zoe>',
      '334 VXNlcm5hbWU6',
      'em9l <zoe>',
      '334 UGFzc3dvcmQ6',
      'c2VjcmV0 <zoe>',
      'login',
    ]);
  });

  it("makes a line nobody's when the exchange ends without a login: next command, close, or the service stopping", () => {
    expect(
      summary(
        attribute([
          line('s1', 'C', 'AUTH PLAIN bm9udWw=', true),
          line('s1', 'S', '501 Error: invalid userdata'),
          line('s1', 'C', 'QUIT'),
        ]),
      ),
    ).toEqual(['AUTH PLAIN bm9udWw= <null>', '501 Error: invalid userdata', 'QUIT']);
    expect(summary(attribute([line('s1', 'C', 'PASS x', true), close('s1')]))).toEqual([
      'PASS x <null>',
      'close',
    ]);
    const stopped: TranscriptEvent = { ...base, type: 'service', state: 'stopped' };
    expect(summary(attribute([line('s1', 'C', 'PASS x', true), stopped]))).toEqual([
      'PASS x <null>',
      'service',
    ]);
  });
});

describe('visibleTo', () => {
  const pass = line('s1', 'C', 'PASS zoe-Secret1', true);
  const student = (account: string | null) => ({ teacher: false, account, loopbackTeacher: false });
  const teacher = { teacher: true, account: null, loopbackTeacher: true };

  it("shows a secret to its owner and the teacher, masked to anyone else and when it is nobody's", () => {
    expect(visibleTo(student('zoe'), pass, 'zoe')).toBe(pass);
    expect(visibleTo(teacher, pass, 'zoe')).toBe(pass);
    expect(visibleTo(teacher, pass, null)).toBe(pass);
    expect(visibleTo(student('bob'), pass, 'zoe')).toMatchObject({ line: `PASS ${MASK}`, masked: true });
    expect(visibleTo(student(null), pass, 'zoe')).toMatchObject({ line: `PASS ${MASK}`, masked: true });
    expect(visibleTo(student('zoe'), pass, null)).toMatchObject({ line: `PASS ${MASK}`, masked: true });
    const plain = line('s1', 'C', 'USER zoe');
    expect(visibleTo(student(null), plain)).toBe(plain);
  });

  it("shows a logged-in session's lines to its account and the teacher, only their shape to anyone else", () => {
    const stor: TranscriptEvent = {
      ...(line('s1', 'C', 'STOR zoe-diary.txt') as LineEvent),
      data: { event: 'command', verb: 'STOR', arg: 'zoe-diary.txt' },
    };
    expect(visibleTo(student('zoe'), stor, undefined, 'zoe')).toBe(stor);
    expect(visibleTo(teacher, stor, undefined, 'zoe')).toBe(stor);
    for (const other of [student('bob'), student(null)]) {
      const seen = visibleTo(other, stor, undefined, 'zoe');
      expect(seen).toMatchObject({
        line: `STOR ${MASK}`,
        private: true,
        data: { event: 'command', verb: 'STOR' },
      });
      expect(JSON.stringify(seen)).not.toContain('diary');
    }
    // A password typed again in a logged-in session (FTP allows USER/PASS after a login).
    expect(visibleTo(student('bob'), pass, 'zoe', 'zoe')).toMatchObject({
      line: `PASS ${MASK}`,
      masked: true,
      private: true,
    });
  });
});

describe('maskContent', () => {
  it.each([
    ['C', 'a3 FETCH 1:* (ENVELOPE)', `a3 FETCH ${MASK}`],
    ['C', 'a4 UID FETCH 1:* (BODY[])', `a4 UID FETCH ${MASK}`],
    ['C', 'a5 select "Bank letters"', `a5 select ${MASK}`],
    ['C', 'RCPT TO:<bob@lab.test>', `RCPT ${MASK}`],
    ['C', 'RETR 3', `RETR ${MASK}`],
    ['C', 'GET /api/mail/zoe/INBOX HTTP/1.1', `GET ${MASK}`],
    ['C', 'QUIT', 'QUIT'],
    ['C', 'a9 LOGOUT', 'a9 LOGOUT'],
    ['C', '<message: 312 octets, Subject: my secret>', MASK],
    ['C', 'Dear Bob, I LIST my secrets', MASK],
    ['S', '* 2 FETCH (ENVELOPE ("Mon" "my secret"))', `* 2 FETCH ${MASK}`],
    ['S', '* OK [UIDVALIDITY 1]', `* OK ${MASK}`],
    ['S', 'a3 OK FETCH completed', `a3 OK ${MASK}`],
    ['S', '250 2.0.0 Ok: queued as 17', `250 ${MASK}`],
    ['S', '250-SIZE 10240000', `250-${MASK}`],
    ['S', '+OK 2 messages (320 octets)', `+OK ${MASK}`],
    ['S', '-ERR no such message', `-ERR ${MASK}`],
    ['S', '150 Opening data connection for zoe-diary.txt', `150 ${MASK}`],
    ['S', 'HTTP/1.1 200 OK', `HTTP/1.1 200 ${MASK}`],
    ['S', '<4 lines: From: zoe | Subject: my secret>', MASK],
    ['S', 'my secret', MASK],
  ] as const)('%s: %s -> %s', (dir, text, masked) => expect(maskContent(dir, text)).toBe(masked));
});

describe('SessionAccounts', () => {
  const accountsOf = (events: TranscriptEvent[]) => {
    const accounts = new SessionAccounts();
    return events.map((e) => accounts.receive(e));
  };

  it('gives the lines after a right password to that account, until a wrong one or the close', () => {
    expect(
      accountsOf([
        line('s1', 'C', 'USER zoe'),
        line('s1', 'C', 'PASS x', true),
        login('s1', 'zoe', true),
        line('s1', 'C', 'LIST'),
        line('s2', 'C', 'LIST'), // another session: not zoe's
        line('s1', 'C', 'USER bob'),
        login('s1', 'bob', false),
        line('s1', 'C', 'LIST'),
        login('s1', 'bob', true),
        line('s1', 'C', 'LIST'),
        close('s1'),
        line('s1', 'C', 'LIST'),
      ]),
    ).toEqual([
      undefined,
      undefined,
      undefined,
      'zoe',
      undefined,
      'zoe',
      undefined,
      undefined,
      undefined,
      'bob',
      'bob',
      undefined,
    ]);
  });

  it("forgets a stopped service's sessions", () => {
    const stopped: TranscriptEvent = { ...base, type: 'service', state: 'stopped' };
    expect(accountsOf([login('s1', 'zoe', true), stopped, line('s1', 'C', 'LIST')])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
