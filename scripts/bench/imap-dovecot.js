// IMAP write, login and load benchmark against Dovecot (`npm run bench -- imap-dovecot [MESSAGES]
// [ROUNDS]`, after a build). Issue #20's rows on the reference's workload, each run alternately on a
// private Dovecot (scripts/bench-lib/dovecot.js: its own config and Maildir in a temp dir, a
// loopback port, never the system's service) and on portlab's IMAP server (a child process over a
// temp lab), Dovecot, portlab, Dovecot, portlab...:
//   1. APPEND of MESSAGES messages (2-20 KB), one per command, LITERAL+ and pipelined;
//   2. the same with MULTIAPPEND (RFC 3502), 100 messages per command;
//   3. LOGIN (a new connection, LOGIN, timed to its OK) at equal hash cost: none. Dovecot's
//      passwords are PLAIN; portlab's scrypt (N=16384, timed here alone) is paid once, at bob's
//      first login (the APPEND rows), then its auth cache answers (auth-cache.ts);
//   4. 50 clients, mixed (SELECT, header and body FETCH, STORE, NOOP; 10 in IDLE while mail
//      arrives) on a MESSAGES-message INBOX: NOOP p50 and p99.
// Prints both servers' figures, the ratio and the load average. Asserts nothing.
import { execFileSync } from 'node:child_process';
import { scrypt } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { benchMessage } from '../bench-lib/bench-message.js';
import { dovecotMissing, startDovecot } from '../bench-lib/dovecot.js';
import { BenchImapClient } from '../bench-lib/imap-client.js';
import { mixedWorkload } from '../bench-lib/imap-mixed.js';
import { startPortlabImap } from '../bench-lib/imap-server.js';

const MESSAGES = Number(process.argv[2]) || 10_000;
const ROUNDS = Number(process.argv[3]) || 2;
const MULTI = 100;
const LOGINS = 15;
const CLIENTS = 50;
const IDLERS = 10;
const MIXED_SECONDS = 10;
// ROWS=append,multi,login,mixed (the default: all) runs only those rows.
const ROWS = (process.env.ROWS ?? 'append,multi,login,mixed').split(',');

// --- the workloads ----------------------------------------------------------------------------------

/** A raw connection that counts tagged answers (`tag OK|NO|BAD`) as they come. */
function rawClient(port) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let tail = '';
  const state = { ok: 0, failed: 0, lastFailure: '', waiters: [] };
  socket.on('data', (chunk) => {
    const lines = (tail + chunk.toString('latin1')).split('\r\n');
    tail = lines.pop();
    for (const line of lines) {
      const m = /^[a-z]\d+ (OK|NO|BAD)/.exec(line);
      if (!m) continue;
      if (m[1] === 'OK') state.ok++;
      else {
        state.failed++;
        state.lastFailure = line;
      }
    }
    const answered = state.ok + state.failed;
    for (const w of state.waiters) if (answered >= w.n) w.resolve();
    state.waiters = state.waiters.filter((w) => answered < w.n);
  });
  socket.on('error', () => {});
  const answered = (n) =>
    state.ok + state.failed >= n
      ? Promise.resolve()
      : new Promise((resolve) => state.waiters.push({ n, resolve }));
  const write = (data) =>
    socket.write(data) ? Promise.resolve() : new Promise((resolve) => socket.once('drain', resolve));
  return { socket, state, answered, write };
}

async function loggedIn(port) {
  const c = rawClient(port);
  await new Promise((resolve) => c.socket.once('data', resolve)); // the greeting
  await c.write('x1 LOGIN bob builder\r\n');
  await c.answered(1);
  return c;
}

const literal = (bytes) => Buffer.concat([Buffer.from(`{${bytes.length}+}\r\n`), bytes]);

/** APPEND, one message per command, all pipelined (LITERAL+): messages/s. */
async function appendOneByOne(port, folder) {
  const c = await loggedIn(port);
  await c.write(`x2 CREATE ${folder}\r\n`);
  await c.answered(2);
  const started = performance.now();
  for (let n = 0; n < MESSAGES; n++)
    await c.write(
      Buffer.concat([Buffer.from(`a${n} APPEND ${folder} `), literal(benchMessage(n)), Buffer.from('\r\n')]),
    );
  await c.answered(2 + MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  c.socket.destroy();
  return { rate: MESSAGES / seconds, failed: c.state.failed, why: c.state.lastFailure };
}

/** MULTIAPPEND, MULTI messages per command, one command at a time: messages/s. */
async function appendMulti(port, folder) {
  const c = await loggedIn(port);
  await c.write(`x2 CREATE ${folder}\r\n`);
  await c.answered(2);
  const started = performance.now();
  let commands = 0;
  for (let from = 0; from < MESSAGES; from += MULTI) {
    const parts = [Buffer.from(`m${from} APPEND ${folder}`)];
    for (let n = from; n < Math.min(MESSAGES, from + MULTI); n++)
      parts.push(Buffer.from(' '), literal(benchMessage(n)));
    parts.push(Buffer.from('\r\n'));
    await c.write(Buffer.concat(parts));
    await c.answered(2 + ++commands);
  }
  const seconds = (performance.now() - started) / 1000;
  c.socket.destroy();
  return { rate: MESSAGES / seconds, failed: c.state.failed, why: c.state.lastFailure };
}

/**
 * LOGIN on a new connection, timed from the command to its OK: the first (portlab: its scrypt) and
 * the median of the others (portlab: a right login of late is remembered, auth-cache.ts, as
 * Dovecot's auth_cache would if it were on; it is off by default, and PLAIN costs no derivation).
 */
async function login(port) {
  const times = [];
  for (let i = 0; i < LOGINS; i++) {
    const c = rawClient(port);
    await new Promise((resolve) => c.socket.once('data', resolve));
    const started = performance.now();
    await c.write('l1 LOGIN bob builder\r\n');
    await c.answered(1);
    times.push(performance.now() - started);
    await c.write('l2 LOGOUT\r\n');
    c.socket.destroy();
  }
  return { first: times[0], again: median(times.slice(1)) };
}

/** 50 clients, mixed (bench-lib/imap-mixed.js, as in imap.js): NOOP p50/p99 and all commands' p50/p99. */
async function mixed(port, deliver) {
  const { all, noops, errors } = await mixedWorkload(port, {
    messages: MESSAGES,
    clients: CLIENTS,
    idlers: IDLERS,
    seconds: MIXED_SECONDS,
    deliver,
  });
  return {
    noopP50: quantile(noops, 0.5),
    noopP99: quantile(noops, 0.99),
    allP50: quantile(all, 0.5),
    allP99: quantile(all, 0.99),
    opsPerSecond: all.length / MIXED_SECONDS,
    errors,
  };
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}
const median = (values) => quantile(values, 0.5);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const f1 = (n) => Number(n).toFixed(1);

async function scryptMs() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await new Promise((resolve, reject) =>
      scrypt('builder', 'saltsaltsaltsalt', 32, { N: 16384, r: 8, p: 1 }, (e) => (e ? reject(e) : resolve())),
    );
    times.push(performance.now() - started);
  }
  return median(times);
}

async function bench() {
  const missing = dovecotMissing();
  if (missing) {
    console.log(`imap-dovecot: ${missing}; nothing to compare with.`);
    return;
  }
  const dovecot = await startDovecot();
  // 50 clients of one user from one address: Dovecot allows 10 by default (mail_max_userip_connections).
  appendFileSync(
    path.join(dovecot.dir, 'dovecot.conf'),
    'protocol imap {\n  mail_max_userip_connections = 100\n}\n',
  );
  execFileSync('/usr/bin/doveadm', ['-c', path.join(dovecot.dir, 'dovecot.conf'), 'reload']);
  const portlab = await startPortlabImap({
    messages: MESSAGES,
    execArgv: process.env.PORTLAB_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PORTLAB_CPU_PROF}`]
      : [],
  });
  console.log(
    `IMAP vs Dovecot (${process.version}): ${MESSAGES} messages, ${ROUNDS} rounds (Dovecot, portlab, ...); Dovecot 127.0.0.1:${dovecot.port}, portlab 127.0.0.1:${portlab.port}\n`,
  );
  const servers = [
    { name: 'Dovecot', port: dovecot.port },
    { name: 'portlab', port: portlab.port },
  ];
  const row = async (key, title, run, show) => {
    const results = { Dovecot: [], portlab: [] };
    if (!ROWS.includes(key)) return null;
    for (let round = 0; round < ROUNDS; round++)
      for (const s of servers) {
        const result = await run(s, round);
        results[s.name].push(result);
        console.log(`  ${title.padEnd(40)} ${s.name.padEnd(8)} ${show(result)}   (load ${load()})`);
      }
    return results;
  };
  try {
    const one = await row(
      'append',
      `APPEND x${MESSAGES}, LITERAL+ pipelined`,
      (s, round) => appendOneByOne(s.port, `One${round}`),
      (r) => `${r.rate.toFixed(0)} msg/s${r.failed ? `, ${r.failed} failed: ${r.why}` : ''}`,
    );
    const multi = await row(
      'multi',
      `MULTIAPPEND x${MESSAGES}, ${MULTI} a command`,
      (s, round) => appendMulti(s.port, `Multi${round}`),
      (r) => `${r.rate.toFixed(0)} msg/s${r.failed ? `, ${r.failed} failed: ${r.why}` : ''}`,
    );
    const logins = await row(
      'login',
      'LOGIN, median',
      (s) => login(s.port),
      (ms) => `first ${f1(ms.first)} ms, then median ${f1(ms.again)} ms`,
    );
    const derivation = logins ? await scryptMs() : 0;
    if (logins) console.log(`  scrypt N=16384 r=8 p=1 alone (this process): ${f1(derivation)} ms`);

    if (!ROWS.includes('mixed')) return summary(one, multi, logins, null);
    // The mixed row's INBOX, filled the same way on both: files dropped into new/
    for (let n = 0; n < MESSAGES; n++) dovecot.deliver('bob', benchMessage(n));
    await portlab.fill('drop');
    for (const s of servers) {
      // The first look gives the UIDs: not what this row measures.
      const c = await BenchImapClient.open(s.port);
      await c.command('LOGIN bob builder');
      await c.command('SELECT INBOX');
      c.close();
    }
    let delivered = 0;
    const deliverTo = {
      Dovecot: () => {
        try {
          dovecot.deliver('bob', benchMessage(Math.floor(Math.random() * 1e6)));
        } catch {
          // Dovecot (in IDLE) moved the file to cur/ before deliver() could chown it: it is there.
        }
      },
      portlab: () => portlab.deliver(MESSAGES + ++delivered),
    };
    const load50 = await row(
      'mixed',
      `${CLIENTS} clients mixed, ${MIXED_SECONDS} s`,
      (s) => mixed(s.port, deliverTo[s.name]),
      (r) =>
        `NOOP p50 ${f1(r.noopP50)} ms p99 ${f1(r.noopP99)} ms; all p50 ${f1(r.allP50)} p99 ${f1(r.allP99)} ms, ${r.opsPerSecond.toFixed(0)} ops/s, ${r.errors} errors`,
    );

    summary(one, multi, logins, load50);
  } finally {
    await portlab.stop();
    await dovecot.stop();
  }
}

function summary(one, multi, logins, load50) {
  const best = (list, key) => Math.max(...list.map(key));
  const least = (list, key) => Math.min(...list.map(key));
  console.log('\nsummary (best of the rounds)           Dovecot      portlab     ratio');
  const line = (title, d, p, unit, higherIsBetter) =>
    console.log(
      `  ${title.padEnd(36)} ${`${d.toFixed(1)} ${unit}`.padEnd(12)} ${`${p.toFixed(1)} ${unit}`.padEnd(12)} ${(higherIsBetter ? p / d : d / p).toFixed(2)}x`,
    );
  if (one)
    line(
      'APPEND LITERAL+',
      best(one.Dovecot, (r) => r.rate),
      best(one.portlab, (r) => r.rate),
      'msg/s',
      true,
    );
  if (multi)
    line(
      'MULTIAPPEND',
      best(multi.Dovecot, (r) => r.rate),
      best(multi.portlab, (r) => r.rate),
      'msg/s',
      true,
    );
  const dLogin = logins && least(logins.Dovecot, (x) => x.again);
  if (logins)
    line(
      'LOGIN again (Dovecot PLAIN)',
      dLogin,
      least(logins.portlab, (x) => x.again),
      'ms',
      false,
    );
  if (load50)
    line(
      '50 clients: NOOP p50',
      least(load50.Dovecot, (r) => r.noopP50),
      least(load50.portlab, (r) => r.noopP50),
      'ms',
      false,
    );
  if (load50)
    line(
      '50 clients: NOOP p99',
      least(load50.Dovecot, (r) => r.noopP99),
      least(load50.portlab, (r) => r.noopP99),
      'ms',
      false,
    );
  console.log(`  (ratio: portlab's speed relative to Dovecot's; above 1 portlab is ahead)  load ${load()}`);
}

await bench();
