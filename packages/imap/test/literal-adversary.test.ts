import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

describe('literals before login', () => {
  it('are refused past 8 KB (a user name and a password), and the session goes on', async () => {
    const c = await RawClient.connect(lab.port);
    // Synchronizing: refused before the client sends a byte.
    expect(await c.command('a1', 'LOGIN {100000}')).toMatch(/^a1 NO \[TOOBIG\] literal of 100000 bytes/m);
    // Non-synchronizing (LITERAL+): read and dropped, never held.
    c.write(`a2 LOGIN {100000+}\n${'x'.repeat(100000)} x\n`);
    expect(await c.until(/^a2 .*\r\n/m)).toMatch(/^a2 BAD \[TOOBIG\]/m);
    // A password in a literal still works, and after login a message of 100 kB is taken.
    c.write('a3 LOGIN bob {7+}\nbuilder\n');
    expect(await c.until(/^a3 .*\r\n/m)).toMatch(/^a3 OK/m);
    const body = message('big', 'y'.repeat(100_000)).toString('latin1');
    c.write(`a4 APPEND INBOX {${body.length}+}\n${body}\n`);
    expect(await c.until(/^a4 .*\r\n/m)).toMatch(/^a4 OK/m);
    c.close();
  });
});
