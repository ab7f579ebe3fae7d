import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
  await lab.store.deliver('bob', message('one'));
});
afterAll(() => lab.stop());

describe('deeply nested arguments (a hostile client, within the 64 KB line)', () => {
  it('SEARCH with thousands of nested lists or NOTs gets BAD, and the session goes on', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('a', 'SELECT INBOX')).toMatch(/a OK/);
    const lists = `${'('.repeat(5000)}ALL${')'.repeat(5000)}`;
    expect(await c.command('b', `SEARCH ${lists}`)).toMatch(/^b BAD .*nest/m);
    expect(await c.command('c', `SEARCH ${'NOT '.repeat(10000)}ALL`)).toMatch(/^c BAD .*nest/m);
    expect(await c.command('d', `SEARCH ${'OR ALL '.repeat(5000)}ALL`)).toMatch(/^d BAD .*nest/m);
    // A sane nesting still works.
    expect(await c.command('e', 'SEARCH ((ALL)) NOT NOT ALL OR ALL ALL')).toMatch(/\* SEARCH 1\r\ne OK/);
    expect(await c.command('f', 'NOOP')).toMatch(/^f OK/m);
    c.close();
  });
});
