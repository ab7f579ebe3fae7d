// IMAP read benchmark against Dovecot (`npm run bench -- imap-read [MESSAGES] [ROUNDS] [--cpu-prof DIR]`).
// Issue #20's read rows, on the reference's workload: the same 10,000 messages in bob's INBOX of a
// private Dovecot (scripts/bench-lib/dovecot.js: its own config and Maildir in a temp dir, a loopback
// port, never the system's service) and of portlab's IMAP server (a child process over a temp lab), 9
// in 10 marked \Seen on both; then `FETCH 1:* (UID FLAGS)`, `UID FETCH` of 100 whole bodies and
// `SEARCH UNSEEN`, each the median of 7 runs, timed alternately Dovecot, portlab, Dovecot, portlab...
// Before timing, every command a row times is run once, untimed, on both servers (see the warm-up below).
// Prints both servers' figures, their ratio and the load average. Asserts nothing.
import { readFileSync } from 'node:fs';
import { benchMessage } from '../bench-lib/bench-message.js';
import { dovecotMissing, startDovecot } from '../bench-lib/dovecot.js';
import { BenchImapClient } from '../bench-lib/imap-client.js';
import { startPortlabImap } from '../bench-lib/imap-server.js';

const profileAt = process.argv.indexOf('--cpu-prof');
const PROFILE = profileAt === -1 ? null : process.argv.splice(profileAt, 2)[1];
const MESSAGES = Number(process.argv[2]) || 10_000;
const ROUNDS = Number(process.argv[3]) || 3;
const RUNS = 7;

// --- the rows ----------------------------------------------------------------------------------------

async function median(fn) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await fn(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// The same 100-message windows for both servers.
const starts = Array.from({ length: RUNS }, (_, i) => 1 + ((i * 1237) % Math.max(1, MESSAGES - 100)));
const ROWS = [
  ['FETCH 1:* (UID FLAGS)', () => 'FETCH 1:* (UID FLAGS)'],
  ['UID FETCH 100 whole bodies', (i) => `UID FETCH ${starts[i]}:${starts[i] + 99} BODY.PEEK[]`],
  ['SEARCH UNSEEN', () => 'SEARCH UNSEEN'],
];

async function session(port) {
  const client = await BenchImapClient.open(port);
  await client.command('LOGIN bob builder');
  await client.command('SELECT INBOX');
  return client;
}

async function measure(client) {
  const out = [];
  for (const [, command] of ROWS) out.push(await median((i) => client.command(command(i))));
  return out;
}

async function bench() {
  const missing = dovecotMissing();
  if (missing) {
    console.log(`${missing}\n(this bench compares portlab with Dovecot; skipped)`);
    return;
  }
  console.log(
    `IMAP read benchmark: ${MESSAGES} messages in bob's INBOX of Dovecot and of portlab, node ${process.version}`,
  );
  const dovecot = await startDovecot();
  let started = performance.now();
  for (let n = 0; n < MESSAGES; n++) dovecot.deliver('bob', benchMessage(n));
  console.log(`fill Dovecot's Maildir/new: ${(performance.now() - started).toFixed(0)} ms`);
  started = performance.now();
  const portlab = await startPortlabImap({
    messages: MESSAGES,
    // `--cpu-prof DIR`: portlab's server writes its CPU profile there (node --cpu-prof).
    execArgv: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [],
  });
  await portlab.fill();
  console.log(`fill portlab (store.deliver, 32 at once): ${(performance.now() - started).toFixed(0)} ms`);

  // First SELECT (indexes built, UIDs given), 9 in 10 marked \Seen, then the warm-up: each of the 7
  // commands of every row once, untimed, on both servers. A lab server runs for hours: what is timed
  // is a server that has answered these commands before (portlab's code compiled by V8, Dovecot's
  // cache file written), not its first minutes. Until session 8 only the first command of each row
  // was run before timing; the UID FETCH row then timed a server still warming up: portlab's first
  // 21 runs of it took 2 to 4 times the CPU of later ones (V8 compiling, the allocator settling).
  const clients = { dovecot: await session(dovecot.port), portlab: await session(portlab.port) };
  const seen = `1:${Math.floor(MESSAGES * 0.9)}`;
  for (const client of Object.values(clients)) {
    await client.command(`STORE ${seen} +FLAGS.SILENT (\\Seen)`);
    for (const [, command] of ROWS) for (let i = 0; i < RUNS; i++) await client.command(command(i));
  }
  console.log(`warm-up: each of the ${RUNS} commands of every row run once, untimed, on both servers`);
  for (const [name, client] of Object.entries(clients)) {
    const sizes = [];
    for (const [, command] of ROWS) sizes.push((await client.command(command(0))).bytes);
    console.log(`${name.padEnd(8)} answer bytes: ${sizes.join(', ')}`);
  }

  const figures = { dovecot: [], portlab: [] };
  for (let round = 0; round < ROUNDS; round++)
    for (const name of ['dovecot', 'portlab']) figures[name].push(await measure(clients[name]));
  for (const client of Object.values(clients)) client.close();
  await portlab.stop();
  await dovecot.stop();

  const mid = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const ms = (n) => `${n.toFixed(2)} ms`.padStart(10);
  console.log(
    `\n${'row (median of rounds)'.padEnd(30)}${'Dovecot'.padStart(10)}${'portlab'.padStart(10)}   portlab/Dovecot`,
  );
  ROWS.forEach(([label], r) => {
    const d = mid(figures.dovecot.map((f) => f[r]));
    const p = mid(figures.portlab.map((f) => f[r]));
    const each = (name) => figures[name].map((f) => f[r].toFixed(1)).join('/');
    // On a loaded machine the best round is the least disturbed one: both are printed.
    const best = (name) => Math.min(...figures[name].map((f) => f[r]));
    console.log(
      `${label.padEnd(30)}${ms(d)}${ms(p)}   ${(p / d).toFixed(2)}x   best ${(best('portlab') / best('dovecot')).toFixed(2)}x   (rounds D ${each('dovecot')}, P ${each('portlab')})`,
    );
  });
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}

await bench();
