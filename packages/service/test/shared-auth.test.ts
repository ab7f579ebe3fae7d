import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword, verifyPassword } from '@portlab/config';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH_FROM_SUPERVISOR, SharedAuth } from '../src/index.js';

const CHILD = fileURLToPath(new URL('./fixtures/verify-child.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

/** An app process, started as the supervisor starts one (with AUTH_FROM_SUPERVISOR) or not. */
async function app(auth: SharedAuth, args = [AUTH_FROM_SUPERVISOR]) {
  const child = fork(CHILD, args, {
    cwd: path.dirname(CHILD),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  // What the supervisor does with every app's messages (packages/cli supervisor.ts).
  child.on('message', (message: { type?: string }) => auth.handle(child, message));
  const up = await new Promise<{ shared: boolean }>((resolve) =>
    child.once('message', (m) => resolve(m as { shared: boolean })),
  );
  let n = 0;
  return {
    shared: up.shared,
    /** The app checks `password` against `hash`: true, false, or null (it had no shared verifier). */
    check(password: string, hash: string): Promise<boolean | null> {
      const id = ++n;
      return new Promise((resolve) => {
        const onMessage = (m: { type?: string; n?: number; ok?: boolean | null }) => {
          if (m.type !== 'checked' || m.n !== id) return;
          child.off('message', onMessage);
          resolve(m.ok ?? null);
        };
        child.on('message', onMessage);
        child.send({ type: 'check', n: id, password, hash });
      });
    },
  };
}

/** SharedAuth over the real scrypt check, counting the hashes it computes. */
function countingAuth(parallel = 2) {
  const hashed: string[] = [];
  const auth = new SharedAuth(parallel, (password, hash) => {
    hashed.push(password);
    return verifyPassword(password, hash);
  });
  return { auth, hashed };
}

describe('password checks shared by the apps through the supervisor (as Dovecot auth)', () => {
  it('a login checked by two app processes at once costs one scrypt hash, and a later one none', async () => {
    const { auth, hashed } = countingAuth();
    const e07 = await hashPassword('e07-Secret1');
    const [mail, files] = await Promise.all([app(auth), app(auth)]);
    expect(mail.shared && files.shared).toBe(true);
    expect(await Promise.all([mail.check('e07-Secret1', e07), files.check('e07-Secret1', e07)])).toEqual([
      true,
      true,
    ]);
    expect(hashed).toHaveLength(1);
    expect(await files.check('e07-Secret1', e07)).toBe(true);
    expect(hashed).toHaveLength(1);
  });

  it('a wrong password is refused and always hashed again; another account is not opened by this password', async () => {
    const { auth, hashed } = countingAuth();
    const e07 = await hashPassword('e07-Secret1');
    const e08 = await hashPassword('e08-Secret2');
    const mail = await app(auth);
    expect(await mail.check('e07-Secret1', e07)).toBe(true);
    expect(await mail.check('wrong-password', e07)).toBe(false);
    expect(await mail.check('wrong-password', e07)).toBe(false);
    // Another student's account, with e07's right (and cached) password.
    expect(await mail.check('e07-Secret1', e08)).toBe(false);
    expect(hashed).toEqual(['e07-Secret1', 'wrong-password', 'wrong-password', 'e07-Secret1']);
  });

  it('a malformed stored hash is refused, not a crash of the supervisor', async () => {
    const { auth } = countingAuth();
    const mail = await app(auth);
    expect(await mail.check('anything', 'scrypt$3$8$1$AAAA$AAAA')).toBe(false);
    expect(await mail.check('anything', 'not-a-hash')).toBe(false);
  });

  it('more logins at once than the hashes it runs in parallel are all answered', async () => {
    const { auth, hashed } = countingAuth(1);
    const accounts = await Promise.all(['a1', 'a2', 'a3', 'a4'].map(async (p) => [p, await hashPassword(p)]));
    const web = await app(auth);
    const answers = await Promise.all(accounts.map(([p, h]) => web.check(p!, h!)));
    expect(answers).toEqual([true, true, true, true]);
    expect(hashed.sort()).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('an app not started by the supervisor (run alone, or by a test) checks passwords itself', async () => {
    const { auth } = countingAuth();
    const alone = await app(auth, []);
    expect(alone.shared).toBe(false);
    expect(await alone.check('x', 'y')).toBeNull();
  });
});
