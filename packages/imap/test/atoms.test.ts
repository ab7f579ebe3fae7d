import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * RFC 3501 §9: atom-specials are "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials /
 * resp-specials, and resp-specials is "]" alone. Every other printable character is an ATOM-CHAR,
 * `[` and `}` among them; ASTRING-CHAR adds "]". Names written with them are atoms, not errors.
 */
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

/** Every ATOM-CHAR that is not a letter: `.` is this server's delimiter, `&` starts modified UTF-7. */
const PUNCTUATION = "!#$&'+,-.0123456789:;<=>?@^_`|[}";

describe('atoms with every ATOM-CHAR (RFC 3501 §9)', () => {
  it('answers SELECT of a name made of them with NO, and LIST of a pattern made of them with OK', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('a1', `SELECT ${PUNCTUATION}`)).toMatch(/^a1 NO/m);
    expect(await c.command('a2', `LIST "" ${PUNCTUATION}%*`)).toMatch(/^a2 OK/m);
    expect(await c.command('a3', 'LIST "" ~foo')).toMatch(/^a3 OK/m);
    expect(await c.command('a4', 'SELECT ~foo')).toMatch(/^a4 NO/m);
    c.close();
  });

  it('takes `[`, `}` and `]` in a mailbox name given as an atom, in every command that names a mailbox', async () => {
    const c = await RawClient.loggedIn(lab.port);
    const name = 'lab[1}]';
    expect(await c.command('b1', `CREATE ${name}`)).toMatch(/^b1 OK/m);
    expect(await c.command('b2', 'LIST "" lab[*')).toContain('* LIST (\\HasNoChildren) "." "lab[1}]"');
    expect(await c.command('b3', `SUBSCRIBE ${name}`)).toMatch(/^b3 OK/m);
    expect(await c.command('b4', 'LSUB "" lab[%')).toContain('* LSUB () "." "lab[1}]"');
    expect(await c.command('b5', `STATUS ${name} (MESSAGES)`)).toContain('* STATUS "lab[1}]" (MESSAGES 0)');
    const body = message('bracketed');
    c.write(`b6 APPEND ${name} {${body.length}+}\r\n`);
    c.socket.write(body);
    c.write('\r\n');
    expect(await c.until(/^b6 (OK|NO|BAD).*\r\n/m)).toMatch(/^b6 OK/m);
    expect(await c.command('b7', `EXAMINE ${name}`)).toMatch(/\* 1 EXISTS[\s\S]*^b7 OK/m);
    expect(await c.command('b8', `SELECT ${name}`)).toMatch(/^b8 OK/m);
    expect(await c.command('b9', `COPY 1 ${name}`)).toMatch(/^b9 OK/m);
    expect(await c.command('b10', 'RENAME lab[1}] lab[2}]')).toMatch(/^b10 OK/m);
    expect(await c.command('b11', 'UNSUBSCRIBE lab[1}]')).toMatch(/^b11 OK/m);
    expect(await c.command('b12', 'DELETE lab[2}]')).toMatch(/^b12 OK/m);
    c.close();
  });

  it('still reads a FETCH section, with its spaces and parentheses, as one item', async () => {
    const c = await RawClient.loggedIn(lab.port);
    await lab.store.deliver('bob', message('sectioned'));
    expect(await c.command('c1', 'SELECT INBOX')).toMatch(/^c1 OK/m);
    expect(await c.command('c2', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])')).toContain(
      'BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: sectioned\r\n\r\n',
    );
    expect(await c.command('c3', 'FETCH 1 BODY.PEEK[HEADER')).toMatch(/^c3 BAD/m);
    c.close();
  });
});
