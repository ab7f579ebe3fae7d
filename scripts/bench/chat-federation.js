// Federation's figures (issue 16): `npm run bench -- chat-federation [samples]` after a build.
// Runs two real chat apps (apps/chat/dist/main.js) on two throw-away labs; alice (server A) makes a
// room, bob (server B) joins it by alias (make_join/send_join), then:
//   1. send-to-sync latency across federation: alice sends one message at a time on A, bob's
//      long-polling /sync on B receives it (A's queue → PUT /send on B's 8448, checked, fsync'd) —
//      p50, p99, max;
//   2. a burst: 1,000 messages sent on A with 64 in flight, and how long until B holds them all.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { UserStore } from '@portlab/config';
import { tempLab, waitFor } from '@portlab/testkit';

const SAMPLES = Number(process.argv[2] ?? 200);
const BURST = 1000;
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const main = fileURLToPath(new URL('../../apps/chat/dist/main.js', import.meta.url));

async function start() {
  const lab = await tempLab();
  await new UserStore(`${lab.dataDir}/users.json`).ensure();
  let output = '';
  const app = fork(main, [], { env: lab.env, stdio: 'pipe' });
  app.stdout.on('data', (d) => (output += d));
  app.stderr.on('data', (d) => (output += d));
  await waitFor(() => output.includes('Matrix server name'), { what: 'a chat app' });
  const base = `http://127.0.0.1:${lab.ports.matrix}/_matrix/client/v3`;
  const call = (method, path, token, body) =>
    new Promise((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method,
          agent,
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(JSON.parse(text))
              : reject(new Error(`${method} ${path}: ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  const login = async (user, password) =>
    (await call('POST', '/login', null, { type: 'm.login.password', user, password })).access_token;
  return { lab, app, call, login, serverName: `127.0.0.1:${lab.ports['matrix-tls']}` };
}

const a = await start();
const b = await start();
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
try {
  const alice = await a.login('alice', 'wonderland');
  const bob = await b.login('bob', 'builder');
  const { room_id } = await a.call('POST', '/createRoom', alice, {
    preset: 'public_chat',
    room_alias_name: 'bench',
  });
  await b.call('POST', `/join/${encodeURIComponent(`#bench:${a.serverName}`)}`, bob, {});
  const room = encodeURIComponent(room_id);

  // 1. Latency, one message at a time.
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 100 } } }));
  let since = (await b.call('GET', '/sync?timeout=0', bob)).next_batch;
  const sentAt = new Map();
  const delays = [];
  let received = 0;
  let polling = true;
  // A sync that finds more new events than its timeline holds answers `limited: true` with the
  // newest ones and a prev_batch token (client-server API, "Syncing"): a client pages back with
  // /messages for the rest, as this one does. Bodies are counted once.
  const seen = new Set();
  const count = (events, now) => {
    for (const e of events) {
      const body = e.content?.body;
      const t = sentAt.get(body);
      if (t !== undefined && !seen.has(body)) delays.push(now - t);
      if (body?.startsWith('burst ') && !seen.has(body)) received++;
      if (body) seen.add(body);
    }
  };
  const poller = (async () => {
    while (polling) {
      const answer = await b.call('GET', `/sync?since=${since}&timeout=5000&filter=${filter}`, bob);
      const now = performance.now();
      since = answer.next_batch;
      const timeline = answer.rooms.join[room_id]?.timeline;
      if (!timeline) continue;
      count(timeline.events, now);
      let from = timeline.limited ? timeline.prev_batch : undefined;
      while (from) {
        const page = await b.call('GET', `/rooms/${room}/messages?from=${from}&dir=b&limit=100`, bob);
        const before = seen.size;
        count(page.chunk, now);
        from = seen.size > before && page.end ? page.end : undefined;
      }
    }
  })();
  for (let i = 0; i < SAMPLES; i++) {
    const body = `latency ${i}`;
    sentAt.set(body, performance.now());
    await a.call('PUT', `/rooms/${room}/send/m.room.message/l${i}`, alice, { msgtype: 'm.text', body });
    await waitFor(() => delays.length > i, { what: `bob to receive ${body}` });
  }
  delays.sort((x, y) => x - y);
  const f = (x) => `${x.toFixed(1)} ms`;
  console.log(
    `send on A to sync on B: p50 ${f(pct(delays, 50))}, p99 ${f(pct(delays, 99))}, max ${f(delays.at(-1))} (${delays.length} messages, federation)`,
  );

  // 2. A burst.
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < BURST) {
        const i = next++;
        await a.call('PUT', `/rooms/${room}/send/m.room.message/b${i}`, alice, {
          msgtype: 'm.text',
          body: `burst ${i}`,
        });
      }
    }),
  );
  const accepted = performance.now() - t;
  await waitFor(() => received >= BURST, { what: 'B to hold the burst', timeoutMs: 60_000 });
  const all = performance.now() - t;
  console.log(
    `burst: ${BURST} messages accepted by A in ${Math.round(accepted)} ms, all on B after ${Math.round(all)} ms = ${Math.round((BURST / all) * 1000)} messages/s across federation`,
  );
  polling = false;
  await a.call('PUT', `/rooms/${room}/send/m.room.message/end`, alice, { msgtype: 'm.text', body: 'end' });
  await poller;
} finally {
  for (const s of [a, b]) {
    s.app.kill('SIGTERM');
    await new Promise((r) => s.app.once('exit', r));
    s.lab.cleanup();
  }
}
