import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ChatLab, login, startChat } from './chat-lab.js';

const run = promisify(execFile);
const V3 = '/_matrix/client/v3';
let chat: ChatLab;
let alice: string;
let bob: string;
let aliceId: string;
let bobId: string;

beforeAll(async () => {
  chat = await startChat();
  alice = await login(chat.base, 'alice', 'wonderland');
  bob = await login(chat.base, 'bob', 'builder');
  aliceId = `@alice:${chat.serverName}`;
  bobId = `@bob:${chat.serverName}`;
});
afterAll(() => chat.stop());

/** curl as the lab sheet shows it: JSON on the command line, the answer parsed from its stdout. */
async function curl(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('curl', ['-s', '--max-time', '20', ...args]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Lines (events) in the room's NDJSON log: what `cat $DATA/chat/rooms/…` shows. */
function logLines(roomId: string): { event_id: string; pdu: Record<string, unknown> }[] {
  const dir = path.join(chat.lab.dataDir, 'chat', 'rooms');
  const file = readdirSync(dir).find((f) => f.startsWith(roomId.slice(1, 8)));
  if (!file) return [];
  return readFileSync(path.join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('rooms with curl, as the lab sheet shows it', () => {
  it('logs in, creates a room, sends a message, and the other user syncs it', async () => {
    const base = `${chat.base}${V3}`;
    const session = await curl(
      '-d',
      '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"wonderland"}',
      `${base}/login`,
    );
    const token = session.access_token as string;
    expect(session.user_id).toBe(aliceId);
    const auth = ['-H', `Authorization: Bearer ${token}`];
    const created = await curl(
      ...auth,
      '-d',
      `{"name":"Lab 07","invite":["${bobId}"]}`,
      `${base}/createRoom`,
    );
    const roomId = created.room_id as string;
    expect(roomId).toMatch(/^![A-Za-z]{18}:127\.0\.0\.1:\d+$/);
    // bob joins (he was invited), as he would with curl too.
    expect(
      (await api(chat.base, 'POST', `${V3}/rooms/${roomId}/join`, { token: bob, body: {} })).status,
    ).toBe(200);
    const sent = await curl(
      ...auth,
      '-X',
      'PUT',
      '-d',
      '{"msgtype":"m.text","body":"Bonjour !"}',
      `${base}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/txn1`,
    );
    expect(sent.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    // The event is on disk, hashed and signed, before its id came back.
    const stored = logLines(roomId).find((l) => l.event_id === sent.event_id);
    expect(stored?.pdu).toMatchObject({
      content: { body: 'Bonjour !' },
      hashes: { sha256: expect.any(String) },
    });
    expect(Object.keys(stored?.pdu.signatures ?? {})).toEqual([chat.serverName]);
    const sync = await curl('-H', `Authorization: Bearer ${bob}`, `${base}/sync`);
    const room = (
      sync.rooms as { join: Record<string, { timeline: { events: { content: { body?: string } }[] } }> }
    ).join[roomId];
    expect(room?.timeline.events.map((e) => e.content.body)).toContain('Bonjour !');
    expect(sync.next_batch).toMatch(/^s\d+$/);
  });
});

describe('rooms and /sync', () => {
  async function newRoom(body: Record<string, unknown> = {}): Promise<string> {
    const res = await api(chat.base, 'POST', `${V3}/createRoom`, { token: alice, body });
    expect(res.status).toBe(200);
    return res.body.room_id as string;
  }
  const send = (token: string, roomId: string, body: unknown, txn: string) =>
    api(chat.base, 'PUT', `${V3}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, {
      token,
      body,
    });

  it('makes the state of the preset, name, topic and alias, and finds the room by its alias', async () => {
    const roomId = await newRoom({
      preset: 'public_chat',
      name: 'Hall',
      topic: 'all welcome',
      room_alias_name: 'hall',
    });
    const state = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/state/m.room.join_rules`, {
      token: alice,
    });
    expect(state.body).toEqual({ join_rule: 'public' });
    const topic = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/state/m.room.topic/`, { token: alice });
    expect(topic.body).toEqual({ topic: 'all welcome' });
    const alias = `#hall:${chat.serverName}`;
    const found = await api(chat.base, 'GET', `${V3}/directory/room/${encodeURIComponent(alias)}`);
    expect(found.body.room_id).toBe(roomId);
    // A public room: bob joins by alias without an invite.
    const joined = await api(chat.base, 'POST', `${V3}/join/${encodeURIComponent(alias)}`, {
      token: bob,
      body: {},
    });
    expect(joined.body.room_id).toBe(roomId);
    const rooms = await api(chat.base, 'GET', `${V3}/joined_rooms`, { token: bob });
    expect(rooms.body.joined_rooms).toContain(roomId);
    const members = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/members`, { token: bob });
    expect((members.body.chunk as { state_key: string }[]).map((m) => m.state_key).sort()).toEqual([
      aliceId,
      bobId,
    ]);
    // The same alias twice is refused.
    const again = await api(chat.base, 'POST', `${V3}/createRoom`, {
      token: bob,
      body: { room_alias_name: 'hall' },
    });
    expect(again).toMatchObject({ status: 400, body: { errcode: 'M_ROOM_IN_USE' } });
  });

  it('refuses a private room to the uninvited, and a non-member sending to it (M_FORBIDDEN), storing nothing', async () => {
    const roomId = await newRoom({ preset: 'private_chat' });
    const before = logLines(roomId).length;
    const join = await api(chat.base, 'POST', `${V3}/rooms/${roomId}/join`, { token: bob, body: {} });
    expect(join).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    const sent = await send(bob, roomId, { msgtype: 'm.text', body: 'let me in' }, 'x1');
    expect(sent).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    // Nor can he read it: its history, nor one of its events by id.
    const read = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/messages?dir=b`, { token: bob });
    expect(read).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    const secret = await send(alice, roomId, { msgtype: 'm.text', body: 'members only' }, 's1');
    const own = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/event/${secret.body.event_id}`, {
      token: alice,
    });
    expect(own.body).toMatchObject({ content: { body: 'members only' } });
    const peek = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/event/${secret.body.event_id}`, {
      token: bob,
    });
    expect(peek).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    expect(logLines(roomId).length).toBe(before + 1); // alice's message only
  });

  it('hides what was said before bob could see it (history_visibility joined)', async () => {
    const roomId = await newRoom({
      initial_state: [
        { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } },
      ],
    });
    await send(alice, roomId, { msgtype: 'm.text', body: 'before bob' }, 'hv1');
    await api(chat.base, 'POST', `${V3}/rooms/${roomId}/invite`, { token: alice, body: { user_id: bobId } });
    await api(chat.base, 'POST', `${V3}/rooms/${roomId}/join`, { token: bob, body: {} });
    await send(alice, roomId, { msgtype: 'm.text', body: 'after bob' }, 'hv2');
    const bodies = async (token: string) =>
      (
        (await api(chat.base, 'GET', `${V3}/rooms/${roomId}/messages?dir=b&limit=50`, { token })).body
          .chunk as {
          content: { body?: string };
        }[]
      )
        .map((e) => e.content.body)
        .filter(Boolean);
    expect(await bodies(alice)).toEqual(['after bob', 'before bob']);
    expect(await bodies(bob)).toEqual(['after bob']);
  });

  it('refuses an event over 65,536 bytes (M_TOO_LARGE) and stores nothing', async () => {
    const roomId = await newRoom();
    const before = logLines(roomId).length;
    const big = await send(alice, roomId, { msgtype: 'm.text', body: 'a'.repeat(70_000) }, 'big1');
    expect(big).toMatchObject({ status: 413, body: { errcode: 'M_TOO_LARGE' } });
    expect(logLines(roomId).length).toBe(before);
    // Just under the body limit but over the event limit once signed: refused the same way.
    const near = await send(alice, roomId, { msgtype: 'm.text', body: 'b'.repeat(65_300) }, 'big2');
    expect(near).toMatchObject({ status: 413, body: { errcode: 'M_TOO_LARGE' } });
    expect(logLines(roomId).length).toBe(before);
  });

  it('answers the same transaction id with the same event, stored once', async () => {
    const roomId = await newRoom();
    const first = await send(alice, roomId, { msgtype: 'm.text', body: 'once' }, 'same-txn');
    const again = await send(alice, roomId, { msgtype: 'm.text', body: 'once' }, 'same-txn');
    expect(again.body.event_id).toBe(first.body.event_id);
    expect(logLines(roomId).filter((l) => (l.pdu.content as { body?: string }).body === 'once')).toHaveLength(
      1,
    );
  });

  it('wakes a long-polling /sync as soon as a message is stored, and shows invite, join and leave', async () => {
    const initial = await api(chat.base, 'GET', `${V3}/sync`, { token: bob });
    let since = initial.body.next_batch as string;
    const roomId = await newRoom({ invite: [bobId] });
    const invited = await api(chat.base, 'GET', `${V3}/sync?since=${since}&timeout=10000`, { token: bob });
    const invite = (
      invited.body.rooms as { invite: Record<string, { invite_state: { events: { type: string }[] } }> }
    ).invite[roomId];
    expect(invite?.invite_state.events.map((e) => e.type)).toContain('m.room.create');
    since = invited.body.next_batch as string;
    await api(chat.base, 'POST', `${V3}/rooms/${roomId}/join`, { token: bob, body: {} });
    const joined = await api(chat.base, 'GET', `${V3}/sync?since=${since}&timeout=10000`, { token: bob });
    const room = (joined.body.rooms as { join: Record<string, { state: { events: { type: string }[] } }> })
      .join[roomId];
    // A room just joined comes with its state: the client knew nothing of it.
    expect(room?.state.events.map((e) => e.type)).toContain('m.room.create');
    since = joined.body.next_batch as string;
    // The long poll, answered by alice's message: started first, it waits for it.
    const polling = api(chat.base, 'GET', `${V3}/sync?since=${since}&timeout=20000`, { token: bob });
    await send(alice, roomId, { msgtype: 'm.text', body: 'wake up' }, 'w1');
    const woken = await polling;
    const timeline = (
      woken.body.rooms as { join: Record<string, { timeline: { events: { content: { body?: string } }[] } }> }
    ).join[roomId]?.timeline.events;
    expect(timeline?.map((e) => e.content.body)).toEqual(['wake up']);
    since = woken.body.next_batch as string;
    await api(chat.base, 'POST', `${V3}/rooms/${roomId}/leave`, { token: bob, body: {} });
    const left = await api(chat.base, 'GET', `${V3}/sync?since=${since}&timeout=10000`, { token: bob });
    expect(Object.keys((left.body.rooms as { leave: object }).leave)).toContain(roomId);
    // After leaving, the room is no longer his to read.
    const read = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/messages?dir=b`, { token: bob });
    expect(read.status).toBe(403);
  });

  it('pages through /messages backwards from the sync timeline with prev_batch', async () => {
    const roomId = await newRoom();
    for (let i = 0; i < 5; i++) await send(alice, roomId, { msgtype: 'm.text', body: `m${i}` }, `p${i}`);
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 2 } } }));
    const sync = await api(chat.base, 'GET', `${V3}/sync?filter=${filter}`, { token: alice });
    const room = (
      sync.body.rooms as {
        join: Record<
          string,
          { timeline: { limited: boolean; prev_batch: string; events: { content: { body?: string } }[] } }
        >;
      }
    ).join[roomId]!;
    expect(room.timeline.limited).toBe(true);
    expect(room.timeline.events.map((e) => e.content.body)).toEqual(['m3', 'm4']);
    const page = await api(
      chat.base,
      'GET',
      `${V3}/rooms/${roomId}/messages?dir=b&limit=3&from=${room.timeline.prev_batch}`,
      {
        token: alice,
      },
    );
    expect((page.body.chunk as { content: { body?: string } }[]).map((e) => e.content.body)).toEqual([
      'm2',
      'm1',
      'm0',
    ]);
    expect(page.body.end).toMatch(/^s\d+$/);
  });

  it('keeps every event after kill -9: the restarted server serves the same room', async () => {
    const roomId = await newRoom({ name: 'durable' });
    const sent = await send(alice, roomId, { msgtype: 'm.text', body: 'still here' }, 'k1');
    chat.app.kill('SIGKILL');
    await new Promise((resolve) => chat.app.once('exit', resolve));
    await chat.restart();
    const page = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/messages?dir=b&limit=1`, {
      token: alice,
    });
    expect((page.body.chunk as { event_id: string }[])[0]?.event_id).toBe(sent.body.event_id);
    const name = await api(chat.base, 'GET', `${V3}/rooms/${roomId}/state/m.room.name`, { token: alice });
    expect(name.body).toEqual({ name: 'durable' });
  });
});
