import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthCache } from '../src/auth-cache.js';
import { UserStore, verifyPassword } from '../src/index.js';

/** A verify function that counts its calls: how many scrypt checks the cache let through. */
function counting() {
  const calls: string[] = [];
  const verify = async (password: string, stored: string) => {
    calls.push(password);
    await new Promise((r) => setTimeout(r, 5));
    return password === `right-for-${stored}`;
  };
  return { calls, verify };
}

describe('the auth cache (as Dovecot auth_cache)', () => {
  it('answers a right login again without a new check, three at once with one check', async () => {
    const cache = new AuthCache();
    const { calls, verify } = counting();
    const three = await Promise.all([1, 2, 3].map(() => cache.verify('right-for-h1', 'h1', verify)));
    expect(three).toEqual([true, true, true]);
    expect(calls).toHaveLength(1);
    expect(await cache.verify('right-for-h1', 'h1', verify)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('never keeps a wrong password: each try pays the whole check', async () => {
    const cache = new AuthCache();
    const { calls, verify } = counting();
    expect(await cache.verify('guess', 'h1', verify)).toBe(false);
    expect(await cache.verify('guess', 'h1', verify)).toBe(false);
    expect(calls).toEqual(['guess', 'guess']);
  });

  it('forgets after its time, and a new stored hash never matches an old entry', async () => {
    const cache = new AuthCache(50);
    const { calls, verify } = counting();
    expect(await cache.verify('right-for-h1', 'h1', verify)).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.verify('right-for-h1', 'h1', verify)).toBe(true);
    expect(calls).toHaveLength(2);
    // The same password against another stored hash (a password changed, then set back): checked.
    expect(await cache.verify('right-for-h1', 'h2', verify)).toBe(false);
    expect(calls).toHaveLength(3);
  });

  it('keeps at most its size, the oldest forgotten first', async () => {
    const cache = new AuthCache(60_000, 2);
    const { calls, verify } = counting();
    for (const h of ['a', 'b', 'c']) await cache.verify(`right-for-${h}`, h, verify);
    await cache.verify('right-for-c', 'c', verify);
    expect(calls).toHaveLength(3);
    await cache.verify('right-for-a', 'a', verify);
    expect(calls).toHaveLength(4);
  });

  it('in a UserStore: a password changed by another process (portlab user add) refuses the old one at once', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-authcache-')), 'users.json');
    const server = new UserStore(file); // the one an app keeps for its lifetime
    await server.ensure();
    expect(await server.authenticate('alice', 'wonderland')).toBe('alice');
    await new UserStore(file).set('alice', 'a new secret');
    expect(await server.authenticate('alice', 'wonderland')).toBeNull();
    expect(await server.authenticate('alice', 'a new secret')).toBe('alice');
    // The real scrypt check is what the cache wraps.
    expect(await verifyPassword('a new secret', server.find('alice')!.hash)).toBe(true);
  });
});
