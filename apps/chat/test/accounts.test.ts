import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ChatLab, login, startChat } from './chat-lab.js';

const V3 = '/_matrix/client/v3';
let chat: ChatLab;

beforeAll(async () => {
  // A short failure delay: the flood test needs a try still being answered when the next arrives.
  chat = await startChat({ login: { failureDelayMs: 300, maxDelayMs: 2000, throttleBy: 'account' } });
});
afterAll(() => chat.stop());

describe('accounts (client-server API)', () => {
  it('lists the spec versions and the password login flow', async () => {
    const versions = await api(chat.base, 'GET', '/_matrix/client/versions');
    expect(versions.body.versions).toContain('v1.1');
    expect((await api(chat.base, 'GET', `${V3}/login`)).body).toEqual({
      flows: [{ type: 'm.login.password' }],
    });
  });

  it('logs a lab account in (m.id.user and legacy user), answers whoami, and logs out', async () => {
    const token = await login(chat.base, 'alice', 'wonderland');
    const legacy = await api(chat.base, 'POST', `${V3}/login`, {
      body: { type: 'm.login.password', user: `@bob:${chat.serverName}`, password: 'builder' },
    });
    expect(legacy.body.user_id).toBe(`@bob:${chat.serverName}`);
    const whoami = await api(chat.base, 'GET', `${V3}/account/whoami`, { token });
    expect(whoami.body.user_id).toBe(`@alice:${chat.serverName}`);
    // The same homeserver behind 8448 (TLS): the token works there too.
    const tls = await api(chat.tlsBase, 'GET', `${V3}/account/whoami`, { token });
    expect(tls.body.user_id).toBe(`@alice:${chat.serverName}`);
    expect((await api(chat.base, 'POST', `${V3}/logout`, { token, body: {} })).status).toBe(200);
    const after = await api(chat.base, 'GET', `${V3}/account/whoami`, { token });
    expect(after).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
  });

  it('logs every device of a user out with /logout/all, and no one else', async () => {
    const phone = await login(chat.base, 'alice', 'wonderland');
    const laptop = await login(chat.base, 'alice', 'wonderland');
    const bob = await login(chat.base, 'bob', 'builder');
    expect((await api(chat.base, 'POST', `${V3}/logout/all`, { token: phone, body: {} })).status).toBe(200);
    expect((await api(chat.base, 'GET', `${V3}/account/whoami`, { token: laptop })).status).toBe(401);
    expect((await api(chat.base, 'GET', `${V3}/account/whoami`, { token: bob })).status).toBe(200);
  });

  it('keeps access tokens hashed on disk, never in clear', async () => {
    const token = await login(chat.base, 'alice', 'wonderland');
    const stored = readFileSync(path.join(chat.lab.dataDir, 'chat', 'tokens.json'), 'utf8');
    expect(stored).not.toContain(token);
    expect(stored).toContain('@alice:');
  });

  it('refuses a wrong password (M_FORBIDDEN) and a wrong token (401 M_UNKNOWN_TOKEN)', async () => {
    const wrong = await api(chat.base, 'POST', `${V3}/login`, {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'nope' },
    });
    expect(wrong).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    const bad = await api(chat.base, 'GET', `${V3}/account/whoami`, { token: 'mat_forged' });
    expect(bad).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
    const none = await api(chat.base, 'GET', `${V3}/account/whoami`);
    expect(none).toMatchObject({ status: 401, body: { errcode: 'M_MISSING_TOKEN' } });
  });

  it('answers malformed JSON with M_NOT_JSON, a non-object with M_BAD_JSON, a huge body with M_TOO_LARGE', async () => {
    const malformed = await api(chat.base, 'POST', `${V3}/login`, { raw: '{"type": "m.login.password",' });
    expect(malformed).toMatchObject({ status: 400, body: { errcode: 'M_NOT_JSON' } });
    const list = await api(chat.base, 'POST', `${V3}/login`, { raw: '[1,2]' });
    expect(list).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    const huge = await api(chat.base, 'POST', `${V3}/login`, {
      raw: JSON.stringify({ x: 'a'.repeat(300_000) }),
    });
    expect(huge).toMatchObject({ status: 413, body: { errcode: 'M_TOO_LARGE' } });
    // Still serving after all that.
    expect((await api(chat.base, 'GET', '/_matrix/client/versions')).status).toBe(200);
  });

  it('answers what it does not serve with M_UNRECOGNIZED: 404 unknown path, 405 wrong method', async () => {
    const unknown = await api(chat.base, 'GET', `${V3}/thirdparty/protocols`);
    expect(unknown).toMatchObject({ status: 404, body: { errcode: 'M_UNRECOGNIZED' } });
    const method = await api(chat.base, 'DELETE', `${V3}/login`);
    expect(method).toMatchObject({ status: 405, body: { errcode: 'M_UNRECOGNIZED' } });
  });

  it('throttles login flooding with M_LIMIT_EXCEEDED and retry_after_ms', async () => {
    const tries = await Promise.all(
      Array.from({ length: 10 }, () =>
        api(chat.base, 'POST', `${V3}/login`, {
          body: { type: 'm.login.password', user: 'alice', password: 'guess' },
        }),
      ),
    );
    const limited = tries.filter((t) => t.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(limited[0]!.body.retry_after_ms).toBeGreaterThan(0);
    // Every other try was checked, and refused.
    expect(tries.filter((t) => t.status !== 429).every((t) => t.body.errcode === 'M_FORBIDDEN')).toBe(true);
    // The right password still gets in once the tries are over.
    expect(await login(chat.base, 'alice', 'wonderland')).toMatch(/^mat_/);
  });

  it('stores a filter and gives it back to its owner only', async () => {
    const alice = await login(chat.base, 'alice', 'wonderland');
    const bob = await login(chat.base, 'bob', 'builder');
    const aliceId = `@alice:${chat.serverName}`;
    const filter = { room: { timeline: { limit: 7 } } };
    const made = await api(chat.base, 'POST', `${V3}/user/${encodeURIComponent(aliceId)}/filter`, {
      token: alice,
      body: filter,
    });
    expect(made.status).toBe(200);
    const id = made.body.filter_id as string;
    const back = await api(chat.base, 'GET', `${V3}/user/${encodeURIComponent(aliceId)}/filter/${id}`, {
      token: alice,
    });
    expect(back.body).toEqual(filter);
    // Another user's filter: not readable, and not writable.
    const stolen = await api(chat.base, 'GET', `${V3}/user/${encodeURIComponent(aliceId)}/filter/${id}`, {
      token: bob,
    });
    expect(stolen).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    const planted = await api(chat.base, 'POST', `${V3}/user/${encodeURIComponent(aliceId)}/filter`, {
      token: bob,
      body: {},
    });
    expect(planted.status).toBe(403);
  });

  it('serves capabilities, default push rules and profiles', async () => {
    const token = await login(chat.base, 'bob', 'builder');
    const caps = await api(chat.base, 'GET', `${V3}/capabilities`, { token });
    expect(caps.body).toMatchObject({ capabilities: { 'm.room_versions': { default: '10' } } });
    const rules = await api(chat.base, 'GET', `${V3}/pushrules/`, { token });
    const override = (rules.body.global as { override: { rule_id: string }[] }).override;
    expect(override.map((r) => r.rule_id)).toContain('.m.rule.master');
    const bobId = encodeURIComponent(`@bob:${chat.serverName}`);
    expect((await api(chat.base, 'GET', `${V3}/profile/${bobId}`, { token })).body).toEqual({
      displayname: 'bob',
    });
    await api(chat.base, 'PUT', `${V3}/profile/${bobId}/displayname`, {
      token,
      body: { displayname: 'Bob B.' },
    });
    expect((await api(chat.base, 'GET', `${V3}/profile/${bobId}/displayname`, { token })).body).toEqual({
      displayname: 'Bob B.',
    });
    const aliceId = encodeURIComponent(`@alice:${chat.serverName}`);
    const other = await api(chat.base, 'PUT', `${V3}/profile/${aliceId}/displayname`, {
      token,
      body: { displayname: 'not alice' },
    });
    expect(other).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
  });

  it('writes each exchange as C:/S: lines with the password and access token masked', async () => {
    const token = await login(chat.base, 'alice', 'wonderland');
    await fetch(`${chat.base}${V3}/account/whoami?access_token=${token}`);
    // The transcript is written on the next tick of the app: wait for its lines.
    let lines: { dir: string; line: string }[] = [];
    for (let i = 0; i < 50 && !lines.some((l) => l.line.includes('whoami?access_token=***')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      lines = readFileSync(path.join(chat.lab.dataDir, 'log', 'matrix.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === 'line');
    }
    const text = lines.map((l) => `${l.dir}: ${l.line}`).join('\n');
    expect(text).toContain('C: POST /_matrix/client/v3/login {"type":"m.login.password"');
    expect(text).toContain('"password":"***"');
    expect(text).toMatch(/S: 200 OK \{"user_id":"@alice:[^"]+","access_token":"\*\*\*"/);
    expect(text).toContain('C: GET /_matrix/client/v3/account/whoami?access_token=***');
    expect(text).not.toContain(token);
    expect(text).not.toContain('wonderland');
  });

  it("hides a message's words in a server-server request's line, not in a client's", async () => {
    const body = { pdus: [{ type: 'm.room.message', content: { msgtype: 'm.text', body: 'fed-secret' } }] };
    await api(chat.base, 'PUT', '/_matrix/federation/v1/send/t1', { body });
    await api(chat.base, 'PUT', `${V3}/rooms/!nowhere:x/send/m.room.message/t1`, {
      body: body.pdus[0]!.content,
    });
    const log = () => readFileSync(path.join(chat.lab.dataDir, 'log', 'matrix.ndjson'), 'utf8');
    await waitFor(() => log().includes('rooms/!nowhere:x/send'), { what: 'both requests in the transcript' });
    const lines = log().split('\n');
    const federation = lines.find((l) => l.includes('PUT /_matrix/federation/v1/send/t1'));
    expect(federation).toContain('\\"body\\":\\"<10 chars>\\"');
    expect(federation).not.toContain('fed-secret');
    // A client's own message stays in its line: the dashboard keeps it to that student (apps/web).
    expect(lines.find((l) => l.includes('rooms/!nowhere:x/send'))).toContain('fed-secret');
  });

  it("names the account an access token acts for in the connection's transcript, before its request", async () => {
    const token = await login(chat.base, 'bob', 'builder');
    await api(chat.base, 'PUT', `${V3}/profile/@bob:${chat.serverName}/displayname`, {
      token,
      body: { displayname: 'Bob the builder' },
      newConnection: true,
    });
    type Event = { type: string; session: string; line?: string; user?: string; ok?: boolean };
    let events: Event[] = [];
    const put = () =>
      events.findIndex((e) => e.type === 'line' && /^PUT .*Bob the builder/.test(e.line ?? ''));
    for (let i = 0; i < 50 && put() < 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      events = readFileSync(path.join(chat.lab.dataDir, 'log', 'matrix.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    }
    const at = put();
    expect(at).toBeGreaterThan(0);
    const { session } = events[at]!;
    // Just before the request in its connection's transcript (a new one): bob's login, by his token.
    const before = events.slice(0, at).filter((e) => e.session === session);
    expect(before.at(-1)).toMatchObject({ type: 'login', user: 'bob', ok: true, via: 'access-token' });
    // A wrong token names nobody: no login event for it.
    await api(chat.base, 'GET', `${V3}/account/whoami`, { token: 'mat_forged' });
    await new Promise((r) => setTimeout(r, 200));
    const after = readFileSync(path.join(chat.lab.dataDir, 'log', 'matrix.ndjson'), 'utf8');
    expect(after).not.toMatch(/"type":"login"[^\n]*"user":null/);
  });
});
