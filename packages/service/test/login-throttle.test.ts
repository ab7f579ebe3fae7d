// LoginThrottle.authenticate writes each login try to the connection's transcript session: which
// account, right or wrong. The web app attributes the session's credentials lines with it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserStore } from '@portlab/config';
import { Transcript } from '@portlab/transcript';
import { afterAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/login-throttle.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-throttle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LoginThrottle.authenticate', () => {
  it('writes a login event for each try, failed ones too, naming the account the login names', async () => {
    const users = new UserStore(path.join(dir, 'users.json'));
    await users.ensure(); // alice / wonderland
    const transcript = new Transcript('pop3', 110, { logDir: path.join(dir, 'log') });
    const session = transcript.accepted({ remoteAddress: '10.0.0.5', remotePort: 40000 });
    const throttle = new LoginThrottle({ baseDelayMs: 1, maxDelayMs: 1 });
    const login = (name: string, password: string) =>
      throttle.authenticate(users, {
        name,
        password,
        domain: 'lab.test',
        address: '10.0.0.5',
        transcript: session,
      });

    expect(await login('Alice@lab.test', 'typo')).toMatchObject({ user: null });
    expect(await login('alice', 'wonderland')).toEqual({ user: 'alice' });
    await login('alice@elsewhere.test', 'wonderland'); // not an account of this lab
    await login('nobody', 'x'); // no such account: still the name the login gives
    transcript.flush();

    const events = readFileSync(path.join(dir, 'log', 'pop3.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'login');
    expect(events.map(({ user, ok, session: id }) => ({ user, ok, id }))).toEqual([
      { user: 'alice', ok: false, id: session.id },
      { user: 'alice', ok: true, id: session.id },
      { user: null, ok: false, id: session.id },
      { user: 'nobody', ok: false, id: session.id },
    ]);
  });
});
