// Fairness benchmark (`npm run bench -- fairness [messages]`, or `node scripts/bench/fairness.js`
// after a build): issue #20 "one client can stall everyone". Runs the real mail app (SMTP, IMAP,
// POP3 in one process) over a temporary data dir whose INBOX holds 9,800 messages, lets one heavy
// client work, and meanwhile connects a probe every 100 ms (SMTP, IMAP, POP3 in turn) and times
// how long each waits for its greeting. Goal: every greeting in under 100 ms. Prints figures;
// asserts nothing (test/fairness.test.ts in apps/mail asserts the order of events instead).
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { tempLab } from '@portlab/testkit';

const MESSAGES = Number(process.argv[2]) || 9_800;
// `node scripts/bench/fairness.js 9800 UIDL` runs only the scenarios whose name holds "UIDL".
const ONLY = process.argv[3] ?? '';
// FAIRNESS_PROFILE=dir: the mail app writes a CPU profile there (node --cpu-prof) when it stops.
const PROFILE = process.env.FAIRNESS_PROFILE;
const MAIN = fileURLToPath(new URL('../../apps/mail/dist/main.js', import.meta.url));

/** Maildir files dropped in new/, as an MDA would: the store gives them UIDs at its first look. */
function fillInbox(dataDir, count) {
  const dir = path.join(dataDir, 'mail', 'bob');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (let n = 0; n < count; n++) {
    const body = `Line ${n} of a fairness message.\r\n`.repeat(20 + (n % 40));
    const text = [
      `From: Sender ${n % 50} <sender${n % 50}@example.org>`,
      'To: Bob <bob@lab.test>',
      `Subject: Fairness message ${n}`,
      `Message-ID: <fair-${n}@example.org>`,
      '',
      body + (n % 100 === 0 ? 'zanzibar\r\n' : ''),
    ].join('\r\n');
    writeFileSync(path.join(dir, 'new', `${1700000000 + n}.P${n}.bench`), text);
  }
}

/** A line-reading client: `count(pattern)` tallies replies as they come. */
function open(port) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  return socket;
}

/** Connects and resolves with the ms until the first byte of the greeting. */
function probe(port) {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = open(port);
    socket.once('data', () => {
      resolve(performance.now() - started);
      socket.destroy();
    });
    socket.on('error', () => resolve(Number.NaN));
  });
}

/**
 * The heavy client runs in a worker thread: reading its megabytes must not delay the probes'
 * own event loop, or the bench would time itself.
 */
function heavy(port, login, commands, terminator, expected) {
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { port, login, commands, terminator: terminator.source, expected },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** Sends `commands` at once after logging in; resolves when `expected` terminators were read. */
function heavyHere(port, login, commands, terminator, expected) {
  return new Promise((resolve) => {
    const socket = open(port);
    let seen = 0;
    let tail = '';
    let loggedIn = false;
    const started = performance.now();
    socket.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      if (!loggedIn) {
        if (/^(\+OK|\w+ OK) .*(messages|logged in)/m.test(text) && /\r\n$/.test(text)) {
          loggedIn = true;
          tail = '';
          socket.write(commands);
        } else tail = text.slice(-4096);
        return;
      }
      const matches = text.match(terminator);
      seen += matches ? matches.length : 0;
      tail = text.slice(-64);
      // Count a terminator split over two chunks once: keep only what follows the last match.
      const last = text.lastIndexOf(matches ? matches[matches.length - 1] : '\0');
      if (matches) tail = text.slice(last + matches[matches.length - 1].length).slice(-64);
      if (seen >= expected) {
        socket.destroy();
        resolve(performance.now() - started);
      }
    });
    socket.write(login);
  });
}

async function scenario(name, ports, run) {
  if (!name.includes(ONLY)) return;
  const delays = [];
  let done = false;
  const services = [ports.smtp, ports.imap, ports.pop3];
  let i = 0;
  const probes = [];
  const timer = setInterval(() => {
    if (done) return;
    probes.push(probe(services[i++ % 3]).then((ms) => delays.push(ms)));
  }, 100);
  const heavyMs = await run();
  done = true;
  clearInterval(timer);
  await Promise.all(probes);
  delays.sort((a, b) => a - b);
  const p = (q) => delays[Math.min(delays.length - 1, Math.floor(delays.length * q))] ?? 0;
  console.log(
    `${name.padEnd(44)} heavy ${(heavyMs / 1000).toFixed(2)} s; ${delays.length} probes: greeting p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${(delays.at(-1) ?? 0).toFixed(1)} ms, over 100 ms: ${delays.filter((d) => d >= 100).length}`,
  );
}

if (!isMainThread) {
  const { port, login, commands, terminator, expected } = workerData;
  parentPort.postMessage(await heavyHere(port, login, commands, new RegExp(terminator, 'g'), expected));
  process.exit(0);
}

const lab = await tempLab();
console.log(`fairness: filling bob's INBOX with ${MESSAGES} messages`);
fillInbox(lab.dataDir, MESSAGES);
const app = fork(MAIN, [], {
  env: lab.env,
  execArgv: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
await new Promise((resolve, reject) => {
  app.on('message', (m) => m?.type === 'ready' && resolve());
  app.once('exit', (code) => reject(new Error(`the mail app exited with ${code}`)));
});
const { ports } = lab;
try {
  // The first look at the INBOX gives 9,800 UIDs: not what this bench measures.
  await heavyHere(ports.pop3, 'USER bob\r\nPASS builder\r\n', 'QUIT\r\n', /\+OK bye/g, 1);
  console.log(
    `mail app up; load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}\n`,
  );
  const login = 'USER bob\r\nPASS builder\r\n';
  const imapLogin = 'a LOGIN bob builder\r\n';
  // The floor: greetings while nobody works (on a loaded machine, the scheduler's own delays).
  await scenario('no heavy client (2 s)', ports, async () => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return 2000;
  });
  await scenario('POP3, 1,000 UIDL pipelined', ports, () =>
    heavy(ports.pop3, login, 'UIDL\r\n'.repeat(1000), /\r\n\.\r\n/g, 1000),
  );
  await scenario('POP3, 300 x (LIST, UIDL, RETR) pipelined', ports, () =>
    heavy(
      ports.pop3,
      login,
      Array.from({ length: 300 }, (_, n) => `LIST\r\nUIDL\r\nRETR ${n + 1}\r\n`).join(''),
      /\r\n\.\r\n/g,
      900,
    ),
  );
  await scenario('IMAP, 50 x FETCH 1:* (UID FLAGS) pipelined', ports, () =>
    heavy(
      ports.imap,
      `${imapLogin}s SELECT INBOX\r\n`,
      Array.from({ length: 50 }, (_, n) => `f${n} FETCH 1:* (UID FLAGS)\r\n`).join(''),
      /\r\nf\d+ OK/g,
      50,
    ),
  );
  await scenario('IMAP, 10 x SEARCH TEXT zanzibar pipelined', ports, () =>
    heavy(
      ports.imap,
      `${imapLogin}s SELECT INBOX\r\n`,
      Array.from({ length: 10 }, (_, n) => `t${n} SEARCH TEXT zanzibar\r\n`).join(''),
      /\r\nt\d+ OK/g,
      10,
    ),
  );
} finally {
  const exited = new Promise((resolve) => app.once('exit', resolve));
  app.kill('SIGTERM');
  await exited;
  lab.cleanup();
}
