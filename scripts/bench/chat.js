// The chat app's figures (issue 16): `npm run bench -- chat [messages [in-flight]]` after a build.
// Runs the real app (apps/chat/dist/main.js) on a throw-away lab and prints:
//   1. messages accepted per second over HTTP (PUT /send, 64 in flight or the second argument, each
//      fsync'd before its answer);
//   2. send-to-sync latency: alice sends one message at a time, bob's long-polling /sync receives it
//      (p50, p99, max);
//   3. the app's RSS with 100 idle long-polling /sync requests, against none.
import { fork } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { UserStore } from '@portlab/config';
import { tempLab, waitFor } from '@portlab/testkit';

const N = Number(process.argv[2] ?? 2000);
/** Sends in flight at once: the clients of a class, each waiting for its answer. */
const IN_FLIGHT = Number(process.argv[3] ?? 64);
const LATENCY_SAMPLES = 200;
const IDLE_CLIENTS = 100;
// Kept-alive connections, as real clients keep them, enough for every request in flight.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const lab = await tempLab();
await new UserStore(`${lab.dataDir}/users.json`).ensure();
const main = fileURLToPath(new URL('../../apps/chat/dist/main.js', import.meta.url));
let output = '';
const app = fork(main, [], { env: lab.env, stdio: 'pipe' });
app.stdout.on('data', (d) => (output += d));
app.stderr.on('data', (d) => (output += d));
const V3 = `http://127.0.0.1:${lab.ports.matrix}/_matrix/client/v3`;

const call = (method, path, token, body, signal) =>
  new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = request(
      `${V3}${path}`,
      {
        method,
        agent,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(signal ? { signal } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const json = JSON.parse(text);
          if (res.statusCode !== 200) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(json);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${app.pid}/status`, 'utf8'))[1]) / 1024;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

try {
  await waitFor(() => output.includes('Matrix server name'), { what: 'the chat app' });
  const login = async (user, password) =>
    (await call('POST', '/login', null, { type: 'm.login.password', user, password })).access_token;
  const alice = await login('alice', 'wonderland');
  const bob = await login('bob', 'builder');
  const { room_id } = await call('POST', '/createRoom', alice, { name: 'bench', preset: 'public_chat' });
  await call('POST', `/rooms/${room_id}/join`, bob, {});
  const room = encodeURIComponent(room_id);
  const send = (i, token = alice) =>
    call('PUT', `/rooms/${room}/send/m.room.message/b${i}`, token, {
      msgtype: 'm.text',
      body: `message ${i}`,
    });

  // 1. Throughput.
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < N) await send(next++);
    }),
  );
  const ms = performance.now() - started;
  console.log(
    `accepted: ${N} messages in ${Math.round(ms)} ms = ${Math.round((N / ms) * 1000)} messages/s (fsync'd, ${IN_FLIGHT} in flight)`,
  );

  // 2. Send-to-sync latency.
  let since = (await call('GET', '/sync?timeout=0', bob)).next_batch;
  const sentAt = new Map();
  const delays = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const answer = await call('GET', `/sync?since=${since}&timeout=5000`, bob);
      const now = performance.now();
      since = answer.next_batch;
      for (const e of answer.rooms.join[room_id]?.timeline.events ?? []) {
        const t = sentAt.get(e.content.body);
        if (t !== undefined) delays.push(now - t);
      }
    }
  })();
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const body = `latency ${i}`;
    sentAt.set(body, performance.now());
    await call('PUT', `/rooms/${room}/send/m.room.message/l${i}`, alice, { msgtype: 'm.text', body });
    await waitFor(() => delays.length > i, { what: `bob to receive ${body}` });
  }
  polling = false;
  await call('PUT', `/rooms/${room}/send/m.room.message/end`, alice, { msgtype: 'm.text', body: 'end' });
  await poller;
  delays.sort((a, b) => a - b);
  const f = (x) => `${x.toFixed(1)} ms`;
  console.log(
    `send to sync: p50 ${f(pct(delays, 50))}, p99 ${f(pct(delays, 99))}, max ${f(delays.at(-1))} (${delays.length} messages, one server)`,
  );

  // 3. Idle long polls.
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const before = rss();
  since = (await call('GET', '/sync?timeout=0', bob)).next_batch;
  const stop = new AbortController();
  setMaxListeners(IDLE_CLIENTS + 10, stop.signal); // one abort listener per idle request
  const idle = Array.from({ length: IDLE_CLIENTS }, () =>
    call('GET', `/sync?since=${since}&timeout=60000`, bob, null, stop.signal).catch(() => {}),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const during = rss();
  console.log(
    `idle: ${IDLE_CLIENTS} long-polling /sync add ${(during - before).toFixed(1)} MB RSS (${before.toFixed(1)} -> ${during.toFixed(1)} MB)`,
  );
  stop.abort();
  await Promise.all(idle);
} finally {
  app.kill('SIGTERM');
  await new Promise((r) => app.once('exit', r));
  lab.cleanup();
}
