// IMAP benchmark (`npm run bench -- imap`, or `node scripts/bench/imap.js` after a build).
// Starts its own IMAP server in a child process on a free port over a temporary data dir, fills
// bob's INBOX with 10,000 messages (2-20 KB, one in five multipart), then times what a mail
// client does: SELECT, FETCH 1:* (UID FLAGS), UID FETCH of 100 whole messages, the first-sync
// header fetch, SEARCH TEXT; then 50 concurrent clients in a mixed workload; then 500 idle
// connections and the memory they cost the server process. Prints figures; asserts nothing.
import { BenchImapClient } from '../bench-lib/imap-client.js';
import { mixedWorkload } from '../bench-lib/imap-mixed.js';
import { startPortlabImap } from '../bench-lib/imap-server.js';

// `node scripts/bench/imap.js 1000` for a quick run on a smaller mailbox.
const MESSAGES = Number(process.argv[2]) || 10_000;
const CLIENTS = 50;
const IDLERS = 10;
const MIXED_SECONDS = 15;
const IDLE_CONNECTIONS = 500;

async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function median(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await timed(fn));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const ms = (n) => `${n.toFixed(1)} ms`;

async function bench() {
  // The server in its own process (bench-lib/imap-server.js): its memory is read alone.
  const server = await startPortlabImap({ messages: MESSAGES, execArgv: ['--expose-gc'] });
  const { port } = server;
  console.log(
    `IMAP benchmark: ${MESSAGES} messages in bob's INBOX, server on 127.0.0.1:${port} (its own process)\n`,
  );

  const fillMs = await server.fill();
  console.log(
    `fill (store.deliver, 32 at once)     ${(MESSAGES / (fillMs / 1000)).toFixed(0)} messages/s (${ms(fillMs)})`,
  );

  const c = await BenchImapClient.open(port);
  await c.command('LOGIN bob builder');
  const firstSelect = await timed(() => c.command('SELECT INBOX'));
  console.log(`first SELECT (UIDs given to all)     ${ms(firstSelect)}`);
  console.log(`SELECT INBOX                         ${ms(await median(5, () => c.command('SELECT INBOX')))}`);
  console.log(
    `FETCH 1:* (UID FLAGS)                ${ms(await median(5, () => c.command('FETCH 1:* (UID FLAGS)')))}`,
  );
  const firstSync =
    'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])';
  console.log(`first-sync header fetch, cold cache  ${ms(await timed(() => c.command(firstSync)))}`);
  console.log(`first-sync header fetch, warm cache  ${ms(await median(3, () => c.command(firstSync)))}`);
  const hundred = () => {
    const start = 1 + Math.floor(Math.random() * (MESSAGES - 100));
    return c.command(`UID FETCH ${start}:${start + 99} BODY.PEEK[]`);
  };
  console.log(`UID FETCH 100 whole messages         ${ms(await median(5, hundred))}`);
  console.log(
    `SEARCH TEXT zanzibar                 ${ms(await median(3, () => c.command('SEARCH TEXT zanzibar')))}`,
  );
  c.close();

  // Idle connections: logged in, in IDLE (authenticated state), then the same with INBOX selected.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = await server.memory();
  const idle = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    const client = await BenchImapClient.open(port);
    await client.command('LOGIN bob builder');
    client.socket.write('i1 IDLE\r\n');
    idle.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await server.memory();
  const perConnection = (after.rss - before.rss) / IDLE_CONNECTIONS / 1024;
  const heapPer = (after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS / 1024;
  console.log(
    `${IDLE_CONNECTIONS} idle connections (logged in, IDLE)   ${perConnection.toFixed(1)} KB RSS and ${heapPer.toFixed(1)} KB heap each`,
  );
  for (const client of idle) client.close();

  const selected = [];
  const before2 = await server.memory();
  for (let i = 0; i < 50; i++) {
    const client = await BenchImapClient.open(port);
    await client.command('LOGIN bob builder');
    await client.command('SELECT INBOX');
    client.socket.write('i1 IDLE\r\n');
    selected.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after2 = await server.memory();
  console.log(
    `50 idle connections with the ${MESSAGES}-message INBOX selected: ${((after2.heapUsed - before2.heapUsed) / 50 / 1024).toFixed(1)} KB heap each`,
  );
  for (const client of selected) client.close();

  // 50 clients: 40 busy with SELECT, header and body FETCH, STORE and NOOP; 10 in IDLE while mail arrives.
  const { all: latencies, errors } = await mixedWorkload(port, {
    messages: MESSAGES,
    clients: CLIENTS,
    idlers: IDLERS,
    seconds: MIXED_SECONDS,
    deliver: () => server.deliver(Math.floor(Math.random() * 1e6)),
  });
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  console.log(
    `mixed, ${CLIENTS} clients (${IDLERS} in IDLE)         ${(latencies.length / MIXED_SECONDS).toFixed(0)} ops/s, p99 ${ms(p99)}, ${errors} errors`,
  );

  await server.stop();
}

await bench();
