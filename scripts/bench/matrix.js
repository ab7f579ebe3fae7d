// The Matrix protocol core's cost (issue 16): `npm run bench -- matrix [events]` after a build.
// Prints, for events of a realistic size in one room:
//   1. events built (hashed + ed25519-signed) per second, and verified per second;
//   2. events appended to the room store per second, fsync'd, one client at a time and 64 at once
//      (group commit: appends in flight share one fdatasync);
//   3. how long reopening the store takes (every index rebuilt from the NDJSON log).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSigningKey, makeEvent, RoomStore, toFederationPdu, verifyEvent } from '@portlab/matrix';

const N = Number(process.argv[2] ?? 3000);
const origin = 'bench.test:8448';
const srv = { origin, key: generateSigningKey() };
const alice = `@alice:${origin}`;
const roomId = `!bench:${origin}`;
const lookup = (name, keyId) =>
  name === origin && keyId === srv.key.keyId ? srv.key.publicKeyBase64 : undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'portlab-bench-matrix-'));
const rate = (n, ms) => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

try {
  const { store } = await RoomStore.open(dir);
  const send = (fields) => {
    const ev = makeEvent(store.room(roomId), { roomId, ...fields }, srv);
    return store.append(ev).then(() => ev);
  };
  await send({
    sender: alice,
    type: 'm.room.create',
    stateKey: '',
    content: { creator: alice, room_version: '10' },
  });
  await send({ sender: alice, type: 'm.room.member', stateKey: alice, content: { membership: 'join' } });
  const body = (i) => ({ msgtype: 'm.text', body: `message ${i}: ${'lorem ipsum '.repeat(8)}` });

  let t = performance.now();
  const built = [];
  for (let i = 0; i < N; i++)
    built.push(
      makeEvent(store.room(roomId), { roomId, sender: alice, type: 'm.room.message', content: body(i) }, srv),
    );
  console.log(`build + sign: ${rate(N, performance.now() - t)} (${N} events)`);

  t = performance.now();
  for (const ev of built)
    if (!(await verifyEvent(toFederationPdu(ev), lookup)).ok) throw new Error('verify failed');
  console.log(`verify:       ${rate(N, performance.now() - t)}`);

  const seq = Math.min(N, 500);
  t = performance.now();
  for (let i = 0; i < seq; i++) await send({ sender: alice, type: 'm.room.message', content: body(i) });
  console.log(
    `append, one client at a time (make + fsync each): ${rate(seq, performance.now() - t)} (${seq} events)`,
  );

  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < N) {
        next++;
        await send({ sender: alice, type: 'm.room.message', content: body(next) });
      }
    }),
  );
  console.log(
    `append, 64 clients at once (make + group-committed fsync): ${rate(N, performance.now() - t)} (${N} events)`,
  );
  const total = store.position;
  await store.close();

  t = performance.now();
  const { report } = await RoomStore.open(dir);
  console.log(
    `reopen (rebuild indexes from ${report.events} log lines): ${Math.round(performance.now() - t)} ms`,
  );
  if (report.events !== total)
    throw new Error(`expected ${total} events after reopening, found ${report.events}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
