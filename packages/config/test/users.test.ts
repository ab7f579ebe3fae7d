import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword, UserStore, verifyPassword } from '../src/index.js';

const newStore = () =>
  new UserStore(path.join(mkdtempSync(path.join(tmpdir(), 'portlab-users-')), 'users.json'));

describe('accounts', () => {
  it('creates the demo accounts on first start, hashed with scrypt, never in clear', async () => {
    const store = newStore();
    expect(await store.ensure()).toBe(true);
    expect(await store.ensure()).toBe(false);
    const text = readFileSync(store.file, 'utf8');
    expect(text).not.toMatch(/wonderland|builder/);
    expect(store.list().map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(store.list()[0]!.hash).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it('checks passwords: right, wrong, unknown user, with or without the domain', async () => {
    const store = newStore();
    await store.ensure();
    expect(await store.authenticate('alice', 'wonderland')).toBe('alice');
    expect(await store.authenticate('alice@lab.test', 'wonderland', 'lab.test')).toBe('alice');
    expect(await store.authenticate('alice@other.test', 'wonderland', 'lab.test')).toBeNull();
    expect(await store.authenticate('alice', 'Wonderland')).toBeNull();
    expect(await store.authenticate('mallory', 'wonderland')).toBeNull();
    expect(await store.authenticate('', '')).toBeNull();
  });

  it('knows which accounts still have their demo password', async () => {
    const store = newStore();
    await store.ensure();
    expect(await store.withDemoPasswords()).toEqual(['alice', 'bob']);
    await store.set('alice', 'a new secret');
    expect(await store.withDemoPasswords()).toEqual(['bob']);
    expect(await store.authenticate('alice', 'a new secret')).toBe('alice');
  });

  it('refuses bad user names and too short passwords', async () => {
    const store = newStore();
    await store.ensure();
    await expect(store.set('../etc', 'password')).rejects.toThrow(/invalid user name/);
    await expect(store.set('Carol', 'password')).rejects.toThrow(/invalid user name/);
    await expect(store.set('carol', 'abc')).rejects.toThrow(/too short/);
    await store.set('carol', 'abcd');
    expect(store.find('carol')).toBeDefined();
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same');
    const b = await hashPassword('same');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', 'md5$whatever')).toBe(false);
  });
});
