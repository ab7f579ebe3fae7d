// SMTP on the reference's own workload (`npm run bench -- smtp`, or `node scripts/bench/smtp.js`
// after a build): Postfix's smtp-source, `-s 32 -m 3000 -l 10240`, 32 sessions in parallel, a new
// connection for each message (greeting, EHLO, MAIL, RCPT, DATA, QUIT), as mail comes from real
// MTAs. Runs against portlab's MX port (its own mail app, free ports, a temp data dir) and, when it
// can, against a private Postfix (scripts/lib/postfix-private.js: loopback port, temp dir, stopped
// at the end; the system's Postfix is never touched), alternately: Postfix, portlab, Postfix, ...
// Prints, per run and as medians:
// - accepted msg/s: messages / the time smtp-source took (every 250 after DATA was received);
// - delivered msg/s: messages / the time until all of them were files in the Maildir (portlab
//   delivers before its 250, fsync'ed; Postfix queues first, then its virtual agent delivers);
// - for portlab, the mail process's CPU time per message (user + system, from /proc/PID/stat):
//   unlike the rates, it hardly depends on what else the machine is doing.
// Before the runs, each server takes --warmup N messages (300), not counted: the first run of a
// fresh Node process compiles its code, and Postfix's master starts its daemons on demand.
// Options: --postfix (Postfix rows required), --no-postfix, --runs N (3), --messages N (3000),
// --cpu-prof DIR (the mail app writes a V8 CPU profile there), --compare DIST (one more row, the
// mail app built in DIST: apps/mail's dist of another commit, copied inside apps/mail so its
// imports resolve, for before/after figures taken side by side), --pipelined (the earlier workload:
// 32 long-lived pipelined connections, scripts/lib/smtp-pipelined.js).
import { fork, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, tempLab } from '@portlab/testkit';
import { postfixMissing, startPrivatePostfix } from '../lib/postfix-private.js';
import { pipelined } from '../lib/smtp-pipelined.js';

const SMTP_SOURCE = '/usr/sbin/smtp-source';
const SESSIONS = 32;
const LENGTH = 10240;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const RUNS = Number(option('--runs', 3));
const MESSAGES = Number(option('--messages', 3000));
const WARMUP = Number(option('--warmup', 300));
const cpuProf = option('--cpu-prof', '');
const compare = option('--compare', '');

const main = fileURLToPath(new URL('../../apps/mail/dist/main.js', import.meta.url));

/** Files in a Maildir's new/ (and cur/, should anything have read them). */
function delivered(maildir) {
  let n = 0;
  for (const sub of ['new', 'cur']) {
    const dir = path.join(maildir, sub);
    if (existsSync(dir)) n += readdirSync(dir).length;
  }
  return n;
}

/** CPU seconds (user + system) a process used so far, from /proc/PID/stat; 0 if unknown. */
function cpuSeconds(pid) {
  if (!pid) return 0;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** One smtp-source run of `messages`; resolves with accepted and delivered msg/s (and CPU ms/msg of `pid`). */
async function run(port, maildir, messages = MESSAGES, pid = 0) {
  const before = delivered(maildir);
  const cpuBefore = cpuSeconds(pid);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const source = spawn(
    SMTP_SOURCE,
    // -M: the HELO name; -f/-t: a sender and a local user both servers accept.
    ['-s', String(SESSIONS), '-m', String(messages), '-l', String(LENGTH)]
      .concat(['-M', 'bench.example.org', '-f', 'bench@example.org', '-t', 'bob@lab.test'])
      .concat([`127.0.0.1:${port}`]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errors = '';
  source.stderr.on('data', (chunk) => {
    errors += chunk;
  });
  const code = await new Promise((resolve) => source.once('exit', resolve));
  const accepted = seconds();
  if (code !== 0) throw new Error(`smtp-source exited with ${code}: ${errors.trim()}`);
  while (delivered(maildir) - before < messages) {
    if (seconds() > accepted + 60) throw new Error(`only ${delivered(maildir) - before} messages delivered`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const delivery = seconds();
  const cpu = pid ? ((cpuSeconds(pid) - cpuBefore) * 1000) / messages : 0;
  return { accepted: messages / accepted, delivered: messages / delivery, load, cpu };
}

/**
 * The mail app (`entry`: its dist/main.js) on free ports with a temp data dir. `extra`: config for
 * this build only (a --compare build from before a setting existed refuses it as an unknown key).
 */
async function startPortlab(entry, extra = {}) {
  const lab = await tempLab(extra);
  const execArgv = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProf)] : [];
  const app = fork(entry, [], { env: lab.env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    app.on('message', (m) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the mail app exited with ${code}`)));
  });
  return {
    pid: app.pid,
    port: lab.ports.smtp,
    maildir: path.join(lab.dataDir, 'mail', 'bob'),
    async stop() {
      app.kill('SIGTERM');
      await new Promise((resolve) => app.once('exit', resolve));
      lab.cleanup();
    },
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const show = (name, r) =>
  console.log(
    `  ${name.padEnd(8)} accepted ${r.accepted.toFixed(0).padStart(5)} msg/s, delivered ${r.delivered.toFixed(0).padStart(5)} msg/s${r.cpu ? `, CPU ${r.cpu.toFixed(3)} ms/msg` : ''}  (load ${r.load})`,
  );

if (args.includes('--pipelined')) {
  await pipelined();
  process.exit(0);
}
if (!existsSync(SMTP_SOURCE)) {
  console.log(
    `smtp: ${SMTP_SOURCE} is missing. It comes with Postfix: apt-get install postfix (on a normal host this starts the system's Postfix; the bench never installs anything).`,
  );
  process.exit(0);
}
const missing = args.includes('--no-postfix') ? 'not asked for (--no-postfix)' : postfixMissing();
if (missing && args.includes('--postfix')) {
  console.error(`smtp: no Postfix rows: ${missing}`);
  process.exit(1);
}

console.log(
  `smtp: smtp-source -s ${SESSIONS} -m ${MESSAGES} -l ${LENGTH} (a new connection per message), ${RUNS} runs each after ${WARMUP} warm-up messages, node ${process.version}`,
);
if (missing) console.log(`  (no Postfix rows: ${missing})`);
// The default runs put about 100 MB into bob's mailbox, the default quota: a far larger one, so that
// more --runs measure deliveries, not 452s (mail.quotaBytes has no "unlimited"; 0 refuses all).
const portlab = await startPortlab(main, { mail: { quotaBytes: 1024 ** 4 } });
const [postfixPort] = await freePorts(1);
const postfix = missing ? null : await startPrivatePostfix(postfixPort);
const other = compare ? await startPortlab(path.resolve(compare, 'main.js')) : null;
// Each is run in turn, round after round: a ratio measured side by side is what counts here.
const targets = [
  postfix && { name: 'Postfix', port: postfixPort, maildir: postfix.maildir('bob'), rows: [] },
  { name: 'portlab', port: portlab.port, maildir: portlab.maildir, pid: portlab.pid, rows: [] },
  other && { name: 'compared', port: other.port, maildir: other.maildir, pid: other.pid, rows: [] },
].filter(Boolean);
try {
  if (WARMUP > 0) for (const t of targets) await run(t.port, t.maildir, WARMUP);
  for (let i = 0; i < RUNS; i++) {
    for (const t of targets) {
      const r = await run(t.port, t.maildir, MESSAGES, t.pid);
      t.rows.push(r);
      show(t.name, r);
    }
  }
} finally {
  await portlab.stop();
  await other?.stop();
  await postfix?.stop();
}
const medians = {};
for (const t of targets) {
  medians[t.name] = {
    accepted: median(t.rows.map((r) => r.accepted)),
    delivered: median(t.rows.map((r) => r.delivered)),
    cpu: median(t.rows.map((r) => r.cpu)),
  };
  const m = medians[t.name];
  console.log(
    `  median ${t.name}: accepted ${m.accepted.toFixed(0)} msg/s, delivered ${m.delivered.toFixed(0)} msg/s${m.cpu ? `, CPU ${m.cpu.toFixed(3)} ms/msg` : ''}`,
  );
}
const ratio = (a, b) =>
  `accepted ${(a.accepted / b.accepted).toFixed(2)}x, delivered ${(a.delivered / b.delivered).toFixed(2)}x`;
if (postfix) console.log(`  portlab / Postfix: ${ratio(medians.portlab, medians.Postfix)} (goal >= 1.5x)`);
if (other) console.log(`  portlab / compared: ${ratio(medians.portlab, medians.compared)}`);
