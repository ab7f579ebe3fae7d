/**
 * The dashboard's chat panel reads GET /api/chat/rooms: the chat app's room logs as event graphs,
 * each event ✔ where its signature verifies. Real processes over real sockets: the chat app (a
 * child process) makes the rooms through its client-server API, the web app reads its logs. What a
 * browser sees depends on who it is: the teacher every room, a student only the rooms they are in.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LabConfig, loadConfig, UserStore } from '@portlab/config';
import { buildEvent, generateSigningKey, serverKeysResponse, signingKeyFromSeed } from '@portlab/matrix';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer, EventHub } from '../src/server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`chat panel page test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
const chatMain = fileURLToPath(new URL('../../chat/dist/main.js', import.meta.url));
let lab: TempLab;
let chat: ChildProcess;
const servers: { app: FastifyInstance; hub: EventHub }[] = [];
const rooms: Record<string, string> = {};

interface Panel {
  server: string;
  rooms: {
    id: string;
    name: string | null;
    events: { id: string; type: string; origin: string; prev: string[]; verified: boolean | null }[];
  }[];
}

/** The web app in this process on a free port, the lab machine's browser a teacher or not. */
async function webApp(loopbackIsTeacher: boolean): Promise<string> {
  const config: LabConfig = { ...loadConfig({ file: lab.configFile, env: {} }), web: { loopbackIsTeacher } };
  const hub = new EventHub(config.paths.log);
  const app = await buildWebServer({ config, hub });
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push({ app, hub });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

/** A student's browser: signed in with POST /api/session, its cookie kept. */
async function signIn(base: string, user: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  expect(res.status).toBe(200);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

async function panel(base: string, cookie?: string): Promise<{ status: number; body: Panel }> {
  const res = await fetch(`${base}/api/chat/rooms`, { headers: cookie ? { cookie } : {} });
  return { status: res.status, body: (await res.json()) as Panel };
}

/** login, createRoom, send: the lab sheet's dialogue, as `user`. */
async function makeRoom(user: string, password: string, name: string): Promise<string> {
  const api = `http://127.0.0.1:${lab.ports.matrix}/_matrix/client/v3`;
  const login = (await (
    await fetch(`${api}/login`, {
      method: 'POST',
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }),
    })
  ).json()) as { access_token: string };
  const auth = { authorization: `Bearer ${login.access_token}` };
  const { room_id } = (await (
    await fetch(`${api}/createRoom`, { method: 'POST', headers: auth, body: JSON.stringify({ name }) })
  ).json()) as { room_id: string };
  const sent = await fetch(`${api}/rooms/${encodeURIComponent(room_id)}/send/m.room.message/1`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ msgtype: 'm.text', body: `hello from ${user}` }),
  });
  expect(sent.status).toBe(200);
  return room_id;
}

beforeAll(async () => {
  lab = await tempLab();
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure();
  await users.set('e01', 'e01-Secret1');
  await users.set('e02', 'e02-Secret2');
  chat = fork(chatMain, [], { env: lab.env, stdio: 'pipe' });
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${lab.ports.matrix}/_matrix/client/versions`).then(
        (r) => r.ok,
        () => false,
      ),
    { what: 'the chat app' },
  );
  rooms.e01 = await makeRoom('e01', 'e01-Secret1', 'room of e01');
  rooms.e02 = await makeRoom('e02', 'e02-Secret2', 'room of e02');
}, 30_000);

afterAll(async () => {
  for (const { app, hub } of servers) {
    await app.close();
    hub.close();
  }
  if (chat && chat.exitCode === null) {
    chat.kill('SIGTERM');
    await new Promise((r) => chat.once('exit', r));
  }
  lab?.cleanup();
});

describe('GET /api/chat/rooms', () => {
  it('shows the teacher every room, as a graph of verified events linked by prev_events', async () => {
    const base = await webApp(true);
    const { status, body } = await panel(base);
    expect(status).toBe(200);
    expect(body.rooms.map((r) => r.id).sort()).toEqual([rooms.e01, rooms.e02].sort());
    const room = body.rooms.find((r) => r.id === rooms.e01)!;
    expect(room.name).toBe('room of e01');
    const types = room.events.map((e) => e.type);
    expect(types[0]).toBe('m.room.create');
    expect(types.at(-1)).toBe('m.room.message');
    // Every event made here verifies with this server's key, and points at events of the room.
    const ids = new Set(room.events.map((e) => e.id));
    for (const e of room.events) {
      expect(e.verified, e.type).toBe(true);
      expect(e.origin).toBe(body.server);
      for (const p of e.prev) expect(ids.has(p)).toBe(true);
    }
    expect(room.events[0]!.prev).toEqual([]);
  });

  it('shows a student only their own rooms, never another student’s; nobody signed in nothing', async () => {
    const base = await webApp(false);
    const e01 = await panel(base, await signIn(base, 'e01', 'e01-Secret1'));
    expect(e01.status).toBe(200);
    expect(e01.body.rooms.map((r) => r.id)).toEqual([rooms.e01]);
    const e02 = await panel(base, await signIn(base, 'e02', 'e02-Secret2'));
    expect(e02.body.rooms.map((r) => r.id)).toEqual([rooms.e02]);
    // Not signed in (a browser elsewhere, the lab machine not the teacher's): refused.
    const anonymous = await panel(base);
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.rooms).toBeUndefined();
    // A wrong password does not sign in.
    const wrong = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'e02', password: 'not-it' }),
    });
    expect(wrong.status).toBe(401);
  });

  it.skipIf(!hasChromium)(
    'draws the teacher’s panel: each room’s events, arrows to prev_events, ✔ verified',
    async () => {
      const base = await webApp(true);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
        page.setDefaultTimeout(10_000);
        await page.goto(`${base}/lab#panel=chat`);
        const room = page.locator(`#chat .chat-room[data-room="${rooms.e01}"]`);
        await room.locator('.chat-event').first().waitFor();
        // create, member, power levels, join rules, history visibility, name, message: all ✔.
        const events = room.locator('.chat-event');
        expect(await events.count()).toBeGreaterThanOrEqual(5);
        expect(await room.locator('.chat-event[data-verified="true"]').count()).toBe(await events.count());
        expect(await room.locator('.chat-arrow').count()).toBe((await events.count()) - 1);
        expect(await room.locator('.chat-event').last().textContent()).toContain('✔ message');
      } finally {
        await browser.close();
      }
    },
  );

  it('verifies an event of the neighbour’s server with the key it publishes; ✘ a forged one, ? a server not asked', async () => {
    const base = await webApp(true);
    // The neighbour's server at 127.0.0.2: its key document over HTTPS (a lab certificate of its own
    // kind), as GET /_matrix/key/v2/server serves it.
    const key = generateSigningKey();
    const tls = path.join(lab.dataDir, 'tls');
    const neighbour = createServer(
      { cert: readFileSync(path.join(tls, 'cert.pem')), key: readFileSync(path.join(tls, 'key.pem')) },
      (req, res) => {
        const name = `127.0.0.2:${(neighbour.address() as AddressInfo).port}`;
        if (req.url !== '/_matrix/key/v2/server') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(serverKeysResponse({ serverName: name, key })));
      },
    );
    await new Promise<void>((resolve) => neighbour.listen(0, '127.0.0.2', resolve));
    try {
      const origin = `127.0.0.2:${(neighbour.address() as AddressInfo).port}`;
      const dir = path.join(lab.dataDir, 'chat', 'rooms');
      const file = path.join(
        dir,
        readdirSync(dir).find((f) => rooms.e01!.includes(f.replace('.ndjson', '')))!,
      );
      const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!);
      const fields = (sender: string, body: string, from: string) => ({
        roomId: rooms.e01!,
        sender,
        type: 'm.room.message',
        content: { msgtype: 'm.text', body },
        prevEvents: [last.event_id],
        authEvents: [],
        depth: last.pdu.depth + 1,
        originServerTs: Date.now(),
        origin: from,
      });
      // Signed with the neighbour's key; with another key under the same key ID (forged); by a
      // server that is neither loopback nor the class network (never asked).
      const good = buildEvent(fields(`@nb:${origin}`, 'from next door', origin), key);
      const forger = signingKeyFromSeed(randomBytes(32), key.keyId.slice('ed25519:'.length));
      const forged = buildEvent(fields(`@nb:${origin}`, 'forged', origin), forger);
      const far = buildEvent(fields('@x:example.org', 'far away', 'example.org'), generateSigningKey());
      for (const [i, ev] of [good, forged, far].entries()) {
        const { event_id, ...pdu } = ev;
        appendFileSync(file, `${JSON.stringify({ stream: 1_000_000 + i, event_id, pdu })}\n`);
      }
      const room = (await panel(base)).body.rooms.find((r) => r.id === rooms.e01)!;
      const byId = new Map(room.events.map((e) => [e.id, e]));
      expect(byId.get(good.event_id)).toMatchObject({ origin, verified: true, prev: [last.event_id] });
      expect(byId.get(forged.event_id)).toMatchObject({ origin, verified: false });
      expect(byId.get(far.event_id)).toMatchObject({ origin: 'example.org', verified: null });
    } finally {
      neighbour.close();
    }
  });

  it('marks ✘ an event tampered with in the log (its content hash no longer matches)', async () => {
    const base = await webApp(true);
    // A copy of e02's message with its body changed, appended to e02's room log under the same ID.
    const dir = path.join(lab.dataDir, 'chat', 'rooms');
    const file = path.join(dir, readdirSync(dir).find((f) => rooms.e02!.includes(f.replace('.ndjson', '')))!);
    const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!);
    last.pdu.content.body = 'tampered';
    last.event_id = `${last.event_id}x`;
    appendFileSync(file, `${JSON.stringify(last)}\n`);
    const room = (await panel(base)).body.rooms.find((r) => r.id === rooms.e02)!;
    expect(room.events.at(-1)!.id).toBe(last.event_id);
    expect(room.events.at(-1)!.verified).toBe(false);
    expect(room.events.at(-2)!.verified).toBe(true);
  });
});
