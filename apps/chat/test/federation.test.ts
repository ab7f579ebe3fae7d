// Federation between two real chat servers (dist/main.js, two temp labs on 127.0.0.1, each with its
// own ports, data dir and signing key): a room made on A joined by a user of B, messages both ways,
// B stopped while A keeps talking then restarted and caught up, both copies identical and every
// signature verifying; forged and tampered events refused and not stored; bad X-Matrix → 401.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import {
  buildEvent,
  buildXMatrixAuthorization,
  generateSigningKey,
  loadOrCreateSigningKey,
  type Pdu,
  type RoomEvent,
  type SigningKey,
  toFederationPdu,
  verifyEvent,
  verifyServerKeys,
} from '@portlab/matrix';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCopies } from '../src/federation/compare.js';
import { api, type ChatLab, login, startChat } from './chat-lab.js';

let a: ChatLab;
let b: ChatLab;
let alice: string; // @alice on A
let bob: string; // @bob on B
let roomId: string;
let txnCounter = 0;

beforeAll(async () => {
  [a, b] = await Promise.all([startChat(), startChat()]);
  [alice, bob] = await Promise.all([login(a.base, 'alice', 'wonderland'), login(b.base, 'bob', 'builder')]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const send = async (chat: ChatLab, token: string, text: string) => {
  const r = await api(
    chat.base,
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txnCounter}`,
    {
      token,
      body: { msgtype: 'm.text', body: text },
    },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.event_id as string;
};

/** The message bodies a user sees in the room, oldest first (client API /messages). */
const bodies = async (chat: ChatLab, token: string): Promise<string[]> => {
  const r = await api(
    chat.base,
    'GET',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`,
    { token },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.chunk as { type: string; content: { body?: string } }[])
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content.body as string)
    .reverse();
};

/** A server's copy of the room: its NDJSON log under $DATA/chat/rooms, as students `cat` it. */
const copyOf = (chat: ChatLab): { event_id: string; pdu: Pdu; rejected?: string; outlier?: boolean }[] => {
  const dir = path.join(chat.lab.dataDir, 'chat', 'rooms');
  const file = readdirSync(dir).find((f) => f.startsWith(roomId.slice(1, 10)));
  if (!file) return [];
  return readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
};

describe('two chat servers federating', () => {
  it('serves its signed key; a user of B joins a room of A by alias; messages go both ways', async () => {
    const keys = await https(a, 'GET', '/_matrix/key/v2/server');
    expect(keys.status).toBe(200);
    expect(verifyServerKeys(keys.body, a.serverName).serverName).toBe(a.serverName);

    const created = await api(a.base, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice,
      body: { preset: 'public_chat', name: 'Fédération', room_alias_name: 'fed' },
    });
    expect(created.status).toBe(200);
    roomId = created.body.room_id as string;
    const joined = await api(
      b.base,
      'POST',
      `/_matrix/client/v3/join/${encodeURIComponent(`#fed:${a.serverName}`)}`,
      {
        token: bob,
      },
    );
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    expect(joined.body.room_id).toBe(roomId);

    await send(a, alice, 'hello-from-A');
    await send(b, bob, 'hello-from-B');
    await waitFor(async () => (await bodies(b, bob)).includes('hello-from-A'), { what: 'A’s message on B' });
    await waitFor(async () => (await bodies(a, alice)).includes('hello-from-B'), {
      what: 'B’s message on A',
    });
    // B's join reached A (send_join) and A's members include bob.
    const members = await api(
      a.base,
      'GET',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`,
      {
        token: alice,
      },
    );
    expect(Object.keys(members.body.joined as object).sort()).toEqual(
      [`@alice:${a.serverName}`, `@bob:${b.serverName}`].sort(),
    );
  });

  it('a server stopped while the other keeps talking catches up when it returns', async () => {
    await stopApp(b);
    for (const text of ['while-B-down-1', 'while-B-down-2', 'while-B-down-3']) await send(a, alice, text);
    await b.restart();
    bob = await login(b.base, 'bob', 'builder');
    await waitFor(async () => (await bodies(b, bob)).includes('while-B-down-3'), { what: 'B to catch up' });
    // The same messages; two sent at the same time may be listed in another order (each server's
    // stream is its arrival order), what came after them in the same order.
    expect((await bodies(b, bob)).sort()).toEqual((await bodies(a, alice)).sort());
    expect((await bodies(b, bob)).slice(-3)).toEqual(['while-B-down-1', 'while-B-down-2', 'while-B-down-3']);
    await send(b, bob, 'back-on-B');
    await waitFor(async () => (await bodies(a, alice)).includes('back-on-B'), { what: 'B’s message on A' });
  });

  it('the other way round, with large events: A stopped, B sends 3 × 60 KB, A catches up in one transaction', async () => {
    await stopApp(a);
    const big = (n: number) => `big-${n}-${'x'.repeat(60_000)}`;
    for (const n of [1, 2, 3]) await send(b, bob, big(n));
    await a.restart();
    alice = await login(a.base, 'alice', 'wonderland');
    await waitFor(async () => (await bodies(a, alice)).includes(big(3)), { what: 'the large events on A' });
    expect((await bodies(a, alice)).slice(-3)).toEqual([big(1), big(2), big(3)]);
    // A body over what a transaction may hold (4 MiB announced) is refused from its Content-Length,
    // before it is read: 413 M_TOO_LARGE (only the headers are sent, so no write races the answer).
    const refused = await new Promise<{ status: number; body: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = httpsRequest(
          new URL('/_matrix/federation/v1/send/t-huge', a.tlsBase),
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024) },
            ca: readFileSync(path.join(a.lab.dataDir, 'tls', 'cert.pem')),
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.flushHeaders();
      },
    );
    expect(refused.status).toBe(413);
  });

  it('fetches missing prev_events (get_missing_events) when the queue that held them was lost', async () => {
    await stopApp(b);
    for (const text of ['gap-1', 'gap-2', 'gap-3']) await send(a, alice, text);
    // A restarts without its outbound queue: B will never be sent gap-1..3 as such.
    await stopApp(a);
    rmSync(path.join(a.lab.dataDir, 'chat', 'outbox'), { recursive: true, force: true });
    await Promise.all([a.restart(), b.restart()]);
    [alice, bob] = await Promise.all([login(a.base, 'alice', 'wonderland'), login(b.base, 'bob', 'builder')]);
    // The next message names gap-3 as its prev event: B fetches the gap from A before storing it.
    await send(a, alice, 'after-gap');
    await waitFor(async () => (await bodies(b, bob)).includes('after-gap'), { what: 'after-gap on B' });
    expect((await bodies(b, bob)).slice(-4)).toEqual(['gap-1', 'gap-2', 'gap-3', 'after-gap']);
    // A's transcript of 8448 shows B asking for the gap.
    const transcript = readFileSync(path.join(a.lab.dataDir, 'log', 'matrix-tls.ndjson'), 'utf8');
    expect(transcript).toContain(
      `POST /_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`,
    );
  });

  it('both copies hold the same event IDs, and every signature verifies on both', async () => {
    await waitFor(() => copyOf(a).length === copyOf(b).length, { what: 'both copies to settle' });
    const idsA = copyOf(a)
      .map((l) => l.event_id)
      .sort();
    const idsB = copyOf(b)
      .map((l) => l.event_id)
      .sort();
    expect(idsB).toEqual(idsA);
    const keyA = (await https(a, 'GET', '/_matrix/key/v2/server')).body;
    const keyB = (await https(b, 'GET', '/_matrix/key/v2/server')).body;
    const verified = [verifyServerKeys(keyA, a.serverName), verifyServerKeys(keyB, b.serverName)];
    const lookup = (server: string, keyId: string) =>
      verified.find((k) => k.serverName === server)?.verifyKeys.get(keyId);
    for (const copy of [copyOf(a), copyOf(b)]) {
      for (const line of copy) {
        const v = await verifyEvent(line.pdu, lookup);
        expect(v.ok, `${line.event_id}: ${JSON.stringify(v)}`).toBe(true);
        if (v.ok) expect(v.eventId).toBe(line.event_id);
        expect(line.rejected).toBeUndefined();
      }
    }
    // The side-by-side view students run (src/federation/compare.ts): every event ✔ in both columns.
    const table = await compareCopies(roomId, [a.lab.dataDir, b.lab.dataDir]);
    expect(table).toContain('identical');
    expect(table).not.toContain('✘');
    expect(table.split('\n').filter((l) => /^\$.*✔ +✔/.test(l))).toHaveLength(idsA.length);
    // A data dir without the room (a server that never joined): its column shows what is missing.
    expect(await compareCopies(roomId, [a.lab.dataDir, path.join(a.lab.dir, 'nowhere')])).toContain('differ');
    // Events of both origins are in each copy.
    const origins = new Set(copyOf(a).map((l) => l.pdu.sender.split(':').slice(1).join(':')));
    expect(origins).toEqual(new Set([a.serverName, b.serverName]));
  });

  it('invites a user of the other server (invite v2), who sees it in /sync and joins', async () => {
    const priv = await api(a.base, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice,
      body: { preset: 'private_chat', name: 'Invitation' },
    });
    const privId = priv.body.room_id as string;
    const q = encodeURIComponent(privId);
    // Before the invite, bob's server cannot join the private room for him (join rule invite).
    const early = await api(b.base, 'POST', `/_matrix/client/v3/rooms/${q}/join`, { token: bob });
    expect(early.status).toBe(403);
    const invited = await api(a.base, 'POST', `/_matrix/client/v3/rooms/${q}/invite`, {
      token: alice,
      body: { user_id: `@bob:${b.serverName}` },
    });
    expect(invited.status, JSON.stringify(invited.body)).toBe(200);
    const sync = await api(b.base, 'GET', '/_matrix/client/v3/sync', { token: bob });
    expect(Object.keys((sync.body.rooms as { invite: object }).invite)).toContain(privId);
    const joined = await api(b.base, 'POST', `/_matrix/client/v3/rooms/${q}/join`, { token: bob });
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    const members = await api(a.base, 'GET', `/_matrix/client/v3/rooms/${q}/joined_members`, {
      token: alice,
    });
    expect(Object.keys(members.body.joined as object)).toContain(`@bob:${b.serverName}`);
    // An invite for a user B does not have is refused by B, and A stores nothing.
    const ghost = await api(a.base, 'POST', `/_matrix/client/v3/rooms/${q}/invite`, {
      token: alice,
      body: { user_id: `@nobody:${b.serverName}` },
    });
    expect(ghost.status).toBe(403);
    // createRoom's invite list may name a user of the other server too.
    const direct = await api(a.base, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice,
      body: { preset: 'trusted_private_chat', is_direct: true, invite: [`@bob:${b.serverName}`] },
    });
    expect(direct.status, JSON.stringify(direct.body)).toBe(200);
    const sync2 = await api(b.base, 'GET', '/_matrix/client/v3/sync', { token: bob });
    expect(Object.keys((sync2.body.rooms as { invite: object }).invite)).toContain(direct.body.room_id);
    // Bob rejects that one (make_leave/send_leave through A): A's copy says he left.
    const dq = encodeURIComponent(direct.body.room_id as string);
    const rejected = await api(b.base, 'POST', `/_matrix/client/v3/rooms/${dq}/leave`, { token: bob });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const bobState = await api(
      a.base,
      'GET',
      `/_matrix/client/v3/rooms/${dq}/state/m.room.member/${encodeURIComponent(`@bob:${b.serverName}`)}`,
      {
        token: alice,
      },
    );
    expect(bobState.body.membership).toBe('leave');
  });

  it('refuses a request whose X-Matrix signature is bad or missing (401 M_UNAUTHORIZED)', async () => {
    const txn = { origin: b.serverName, origin_server_ts: Date.now(), pdus: [], edus: [] };
    const none = await https(a, 'PUT', '/_matrix/federation/v1/send/t-none', txn);
    expect(none.status).toBe(401);
    expect(none.body.errcode).toBe('M_UNAUTHORIZED');
    // Signed by another key than B's published one, claiming to be B: a forged signature.
    const forger = generateSigningKey('a_forged');
    const forged = await https(a, 'PUT', '/_matrix/federation/v1/send/t-forged', txn, {
      origin: b.serverName,
      key: { ...forger, keyId: (await bKey()).keyId },
    });
    expect(forged.status).toBe(401);
    expect(forged.body.errcode).toBe('M_UNAUTHORIZED');
    // B's real key, but the body changed after signing (the request tampered with).
    const auth = buildXMatrixAuthorization(
      {
        method: 'PUT',
        uri: '/_matrix/federation/v1/send/t-body',
        origin: b.serverName,
        destination: a.serverName,
        content: txn,
      },
      await bKey(),
    );
    const tampered = await https(
      a,
      'PUT',
      '/_matrix/federation/v1/send/t-body',
      { ...txn, origin_server_ts: 1 },
      { header: auth },
    );
    expect(tampered.status).toBe(401);
    // The same request, untouched, is accepted: the check is not refusing everything.
    const good = await https(a, 'PUT', '/_matrix/federation/v1/send/t-good', txn, {
      origin: b.serverName,
      key: await bKey(),
    });
    expect(good.status).toBe(200);
  });

  it('drops a PDU with a forged signature or tampered in transit, and stores nothing', async () => {
    const key = await bKey();
    const before = copyOf(a).length;
    const last = copyOf(a).at(-1)!.pdu as RoomEvent;
    const genuine = buildEvent(
      {
        roomId,
        sender: `@bob:${b.serverName}`,
        type: 'm.room.message',
        content: { msgtype: 'm.text', body: 'genuine' },
        prevEvents: [eventIdOfLine(copyOf(a).at(-1)!)],
        authEvents: (last.auth_events ?? []).slice(),
        depth: last.depth + 1,
        originServerTs: Date.now(),
        origin: b.serverName,
      },
      key,
    );
    // Tampered in transit: the body changed after B signed it (content hash mismatch).
    const tamperedPdu = { ...toFederationPdu(genuine), content: { msgtype: 'm.text', body: 'tampered' } };
    // Forged: made by someone else's key, claiming B as its origin.
    const forgedPdu = toFederationPdu(
      buildEvent(
        {
          roomId,
          sender: `@bob:${b.serverName}`,
          type: 'm.room.message',
          content: { msgtype: 'm.text', body: 'forged' },
          prevEvents: [eventIdOfLine(copyOf(a).at(-1)!)],
          authEvents: (last.auth_events ?? []).slice(),
          depth: last.depth + 1,
          originServerTs: Date.now(),
          origin: b.serverName,
        },
        { ...generateSigningKey('x'), keyId: key.keyId },
      ),
    );
    const txn = {
      origin: b.serverName,
      origin_server_ts: Date.now(),
      pdus: [tamperedPdu, forgedPdu],
      edus: [],
    };
    const r = await https(a, 'PUT', '/_matrix/federation/v1/send/t-bad-pdus', txn, {
      origin: b.serverName,
      key,
    });
    expect(r.status).toBe(200);
    const results = Object.values(r.body.pdus as Record<string, { error?: string }>);
    expect(results).toHaveLength(2);
    for (const res of results) expect(res.error).toMatch(/dropped/);
    expect(copyOf(a)).toHaveLength(before);
    expect(await bodies(a, alice)).not.toContain('tampered');
    expect(await bodies(a, alice)).not.toContain('forged');
  });

  it('serves state_ids, backfill and event to a server in the room, and refuses one that is not', async () => {
    const key = await bKey();
    const lastId = copyOf(a).at(-1)!.event_id;
    const q = encodeURIComponent(roomId);
    const state = await https(
      a,
      'GET',
      `/_matrix/federation/v1/state_ids/${q}?event_id=${encodeURIComponent(lastId)}`,
      undefined,
      {
        origin: b.serverName,
        key,
      },
    );
    expect(state.status).toBe(200);
    expect((state.body.pdu_ids as string[]).length).toBeGreaterThan(3);
    const back = await https(
      a,
      'GET',
      `/_matrix/federation/v1/backfill/${q}?v=${encodeURIComponent(lastId)}&limit=5`,
      undefined,
      {
        origin: b.serverName,
        key,
      },
    );
    expect(back.status).toBe(200);
    expect((back.body.pdus as Pdu[]).length).toBe(5);
    const one = await https(
      a,
      'GET',
      `/_matrix/federation/v1/event/${encodeURIComponent(lastId)}`,
      undefined,
      {
        origin: b.serverName,
        key,
      },
    );
    expect(one.status).toBe(200);
    // Another student's server, not in the room (signed by a key A can fetch: B's own, under a
    // name that is not in the room would need its own key server, so ask A about a room id B
    // does not share: a fresh private room of alice).
    const priv = await api(a.base, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice,
      body: { preset: 'private_chat' },
    });
    const refused = await https(
      a,
      'GET',
      `/_matrix/federation/v1/state_ids/${encodeURIComponent(priv.body.room_id as string)}?event_id=${encodeURIComponent(lastId)}`,
      undefined,
      { origin: b.serverName, key },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe('M_FORBIDDEN');
  });
});

async function stopApp(chat: ChatLab): Promise<void> {
  const exited = new Promise((resolve) => chat.app.once('exit', resolve));
  chat.app.kill('SIGTERM');
  await exited;
}

function eventIdOfLine(line: { event_id: string }): string {
  return line.event_id;
}

/** B's signing key, from its data dir (what B's server signs with). */
function bKey(): Promise<SigningKey> {
  return loadOrCreateSigningKey(path.join(b.lab.dataDir, 'chat', 'signing.key'));
}

/** A request to `chat`'s 8448 as another server would make it (the lab certificate trusted). */
async function https(
  chat: ChatLab,
  method: string,
  uri: string,
  body?: unknown,
  sign?: { origin?: string; key?: SigningKey; header?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (sign?.header) headers.authorization = sign.header;
  else if (sign?.origin && sign.key) {
    headers.authorization = buildXMatrixAuthorization(
      {
        method,
        uri,
        origin: sign.origin,
        destination: chat.serverName,
        ...(body !== undefined ? { content: body } : {}),
      },
      sign.key,
    );
  }
  const ca = readFileSync(path.join(chat.lab.dataDir, 'tls', 'cert.pem'));
  const url = new URL(uri, chat.tlsBase);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(body !== undefined ? JSON.stringify(body) : undefined);
  });
}
