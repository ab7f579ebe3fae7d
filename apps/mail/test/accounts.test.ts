import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccountNames, UserStore } from '@portlab/config';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-accounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

const file = path.join(dir, 'users.json');
const usersJson = (...names: string[]) =>
  `${JSON.stringify({ users: names.map((name) => ({ name, hash: 'x' })) })}\n`;

describe('AccountNames: the accounts RCPT TO knows, read again when users.json changes', () => {
  it('sees accounts added and removed, whether users.json is replaced (rename) or edited in place', () => {
    writeFileSync(file, usersJson('alice', 'bob'));
    const accounts = new AccountNames(new UserStore(file));
    expect(accounts.has('bob')).toBe(true);
    expect(accounts.has('carol')).toBe(false);

    // As UserStore.write does (`portlab user add`): a new file renamed over the old one.
    writeFileSync(`${file}.tmp`, usersJson('alice', 'bob', 'carol'));
    renameSync(`${file}.tmp`, file);
    expect(accounts.has('carol')).toBe(true);

    // Edited in place (a teacher with a text editor), at once and to the same size: bob becomes eve.
    writeFileSync(file, usersJson('alice', 'eve', 'carol'));
    expect(accounts.has('bob')).toBe(false);
    expect(accounts.has('eve')).toBe(true);
  });

  it('reads a file unchanged for a while once, not at each question', () => {
    writeFileSync(file, usersJson('alice', 'bob'));
    // A minute on (Date only): the file's change time is then a minute old, as after a quiet while.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    const users = new UserStore(file);
    const list = vi.spyOn(users, 'list');
    const accounts = new AccountNames(users);
    for (let i = 0; i < 5; i++) expect(accounts.has('bob')).toBe(true);
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('without users.json, fails as UserStore does', () => {
    const accounts = new AccountNames(new UserStore(path.join(dir, 'missing.json')));
    expect(() => accounts.has('bob')).toThrow(/ENOENT/);
  });
});
