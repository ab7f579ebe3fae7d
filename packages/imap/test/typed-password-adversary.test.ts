import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, RawClient, startImapLab, transcriptUntil } from './helpers.js';

let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
});
afterAll(() => lab.stop());

describe('a password typed on a line of its own after a refused LOGIN or AUTHENTICATE', () => {
  it('is flagged credentials (the dashboard masks it), until the next IMAP command', async () => {
    const c = await RawClient.connect(lab.port);
    // By hand in nc: LOGIN without its password, then the password alone; AUTHENTICATE LOGIN.
    expect(await c.command('a1', 'LOGIN bob')).toMatch(/^a1 BAD/m);
    c.write('builder\n');
    await c.until(/BAD[^\r\n]*\r\n/);
    expect(await c.command('a2', 'AUTHENTICATE LOGIN')).toMatch(/^a2 NO/m);
    c.write(`${Buffer.from('builder').toString('base64')}\n`);
    await c.until(/BAD[^\r\n]*\r\n/);
    await c.command('a3', 'NOOP');
    c.close();
    const events = await transcriptUntil(lab, 'a3 OK');
    const flags = (line: string) => events.find((e) => e.dir === 'C' && e.line === line)?.flags ?? [];
    expect(flags('builder')).toContain('credentials');
    expect(flags(Buffer.from('builder').toString('base64'))).toContain('credentials');
    expect(flags('a3 NOOP')).toEqual([]);
  });
});
