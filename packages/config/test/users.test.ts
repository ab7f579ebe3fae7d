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

  it('adds a class at once: one write, roles kept on a new password, nothing written on a bad entry', async () => {
    const store = newStore();
    await store.ensure();
    const students = Array.from({ length: 8 }, (_, i) => ({
      name: `e0${i + 1}`,
      password: `pass-${i + 1}`,
      role: 'student' as const,
    }));
    await store.setMany([...students, { name: 'teacher', password: 'chalk-Board9', role: 'teacher' }]);
    expect(store.students()).toEqual(students.map((s) => s.name));
    expect(store.find('teacher')?.role).toBe('teacher');
    expect(store.find('alice')?.role).toBeUndefined();
    expect(await store.authenticate('e05', 'pass-5')).toBe('e05');
    expect(await store.authenticate('e05', 'pass-6')).toBeNull();

    // A new password keeps the role; `user add` (set without a role) too.
    await store.set('e05', 'renewed-5');
    expect(store.find('e05')?.role).toBe('student');
    expect(await store.authenticate('e05', 'renewed-5')).toBe('e05');

    // A bad name, a short password or a name twice: refused before anything is written.
    const before = readFileSync(store.file, 'utf8');
    await expect(
      store.setMany([
        { name: 'e09', password: 'fine' },
        { name: 'Zoé', password: 'fine' },
      ]),
    ).rejects.toThrow(/invalid user name 'Zoé'/);
    await expect(store.setMany([{ name: 'e09', password: 'abc' }])).rejects.toThrow(/too short/);
    await expect(
      store.setMany([
        { name: 'e09', password: 'fine' },
        { name: 'e09', password: 'other' },
      ]),
    ).rejects.toThrow(/given twice/);
    expect(readFileSync(store.file, 'utf8')).toBe(before);
  });

  it('removes accounts, and says which existed', async () => {
    const store = newStore();
    await store.ensure();
    await store.setMany([
      { name: 'e01', password: 'one-1', role: 'student' },
      { name: 'e02', password: 'two-2', role: 'student' },
    ]);
    expect(store.remove(['e01', 'nobody'])).toEqual(['e01']);
    expect(store.list().map((u) => u.name)).toEqual(['alice', 'bob', 'e02']);
    expect(await store.authenticate('e01', 'one-1')).toBeNull();
    expect(store.remove(['nobody'])).toEqual([]);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same');
    const b = await hashPassword('same');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', 'md5$whatever')).toBe(false);
  });
});
