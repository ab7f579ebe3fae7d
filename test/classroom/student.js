#!/usr/bin/env node
/**
 * One student's PC in the virtual classroom (issue 13): run in the student's network namespace by
 * packages/testkit/src/classroom.ts (`ip netns exec <ns> node student.js CONFIG_JSON`), it does at
 * once, for the run's duration, what a student's mail client, FTP client, browser and the
 * `portlab check` command do against the teacher's lab:
 *   - IMAP (imapflow): three connections, each IDLE on a folder (INBOX and two folders it creates,
 *     RFC 3501 §6.3.3, RFC 2177); on EXISTS in INBOX, fetches the new message's envelope, as a
 *     mail client does;
 *   - SMTP submission (nodemailer) every `sendEveryMs`: AUTH, one message with a unique Message-ID
 *     to a classmate;
 *   - FTP (basic-ftp): one download of the big file in its home;
 *   - HTTP (fetch): its ~page and the home page, every `sendEveryMs`;
 *   - `portlab check 02` once, as this student (the command line is given in the config).
 * It measures the reply latency of every protocol command (first reply line after the command,
 * read from each client's own protocol log), and prints one JSON object on stdout at the end:
 * { user, latencies: {op: [ms…]}, errors: [{op, message}], sent: [{messageId, to}],
 *   inboxSeen: [messageId…] (what its INBOX connection fetched, once per UID), existsSeen: [messageId…]
 *   (those announced by EXISTS during IDLE), ftp: {bytes, ms}, check: {code, output} }.
 * Before that: {"phase": "loaded"} once Node has loaded it, then it waits for "connect" on stdin;
 * {"phase": "ready"} once its IMAP connections IDLE, then it waits for "go" on stdin;
 * once it has sent everything: {"phase": "sent", "sent": […]}; it then keeps its IDLEs
 * until the run writes on stdin which messages its INBOX must still see: {"expect": [Message-ID…]}.
 * Light on purpose: 30 of these share two cores with the server.
 */
import { spawn } from 'node:child_process';
import { Client as FtpClient } from 'basic-ftp';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { countingSink } from './counting-sink.js';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const latencies = {};
const errors = [];
const sent = [];
const inboxSeen = [];
const existsSeen = [];
const result = { user: cfg.user, latencies, errors, sent, inboxSeen, existsSeen, ftp: null, check: null };
let stopping = false;

function record(op, ms) {
  if (!latencies[op]) latencies[op] = [];
  latencies[op].push(Math.round(ms * 100) / 100);
}

function fail(op, err) {
  errors.push({ op, message: String(err?.message ?? err).slice(0, 300) });
}

/**
 * Times commands from a client's protocol log: a command line starts a clock, the next reply not
 * yet matched stops it. A queue, since SMTP clients pipeline MAIL, RCPT and DATA (RFC 2920) and
 * the replies come back in order. `name` null: the command is not timed, but its reply is matched.
 */
function commandTimer(protocol) {
  const pending = [];
  return {
    command(name) {
      pending.push(name ? { name: `${protocol} ${name}`, at: performance.now() } : null);
    },
    reply() {
      const head = pending.shift();
      if (head) record(head.name, performance.now() - head.at);
    },
  };
}

// --- IMAP ---------------------------------------------------------------------------------------

/** imapflow's logger: 'c' entries are commands ("3 SELECT INBOX"), 's' entries replies. */
function imapLogger() {
  const started = new Map(); // tag -> { name, at }
  const entry = (e) => {
    if (!e || typeof e.msg !== 'string') return;
    const [tag, command] = e.msg.split(' ');
    if (e.src === 'c' && tag && command && tag !== '*' && tag !== '+') {
      // IDLE's tagged reply comes only when the client ends it: not a reply latency.
      if (command.toUpperCase() !== 'IDLE')
        started.set(tag, { name: `IMAP ${command.toUpperCase()}`, at: performance.now() });
    } else if (e.src === 's' && started.has(tag)) {
      const { name, at } = started.get(tag);
      started.delete(tag);
      record(name, performance.now() - at);
    }
  };
  const none = () => undefined;
  return { debug: entry, trace: none, info: none, warn: none, error: none, fatal: none };
}

async function imapConnection(folder) {
  const client = new ImapFlow({
    host: cfg.server,
    port: cfg.ports.imap,
    secure: false,
    doSTARTTLS: false,
    auth: { user: cfg.user, pass: cfg.password },
    logger: imapLogger(),
    // IDLE as soon as the folder is open (imapflow's default waits 15 s, most of a short run).
    autoIdleDelay: 500,
  });
  client.on('error', (err) => fail(`imap ${folder}`, err));
  client.on('close', () => {
    if (!stopping) fail(`imap ${folder}`, 'connection closed by the server');
  });
  await client.connect();
  if (folder !== 'INBOX') {
    const list = await client.list();
    if (!list.some((m) => m.path === folder)) await client.mailboxCreate(folder);
  }
  await client.mailboxOpen(folder);
  if (folder === 'INBOX') {
    // A mail client fetches what the folder holds when it opens it, then what each EXISTS
    // announces (RFC 3501 §7.3.1): imapflow leaves IDLE for the FETCH and goes back to it. By UID,
    // so a message that arrives between the two is taken once; two copies would be two UIDs.
    const uids = new Set();
    const take = async (range, how) => {
      for await (const message of client.fetch(range, { envelope: true, uid: true })) {
        if (uids.has(message.uid)) continue;
        uids.add(message.uid);
        inboxSeen.push(message.envelope?.messageId ?? `(no Message-ID, UID ${message.uid})`);
        if (how === 'exists') existsSeen.push(message.envelope?.messageId);
      }
    };
    let queue = client.mailbox.exists > 0 ? take('1:*', 'select') : Promise.resolve();
    client.on('exists', (info) => {
      queue = queue.then(() => take(`${info.prevCount + 1}:${info.count}`, 'exists'));
    });
    client.drain = () => queue.catch((err) => fail('imap FETCH', err));
  }
  // Nothing else to do: imapflow IDLEs on the selected folder until a command is needed.
  return client;
}

// --- SMTP ---------------------------------------------------------------------------------------

/** nodemailer's logger: tnx 'client' is a command line, tnx 'server' a reply. */
function smtpLogger() {
  const timer = commandTimer('SMTP');
  const log = (entry, message) => {
    if (entry?.tnx === 'client')
      timer.command(/^[A-Za-z]+/.exec(String(message))?.[0]?.toUpperCase() ?? null);
    // The message is logged too (tnx 'message'), ending with "." (RFC 5321 §4.1.1.4): its reply
    // says the message is stored, fsync'ed (apps/mail's durable delivery).
    else if (entry?.tnx === 'message' && message === '.') timer.command('end of DATA');
    else if (entry?.tnx === 'server') timer.reply();
  };
  const none = () => undefined;
  return { debug: log, info: log, trace: none, warn: none, error: none, fatal: none };
}

let sequence = 0;
async function sendOne(logger) {
  sequence += 1;
  const to = cfg.to[sequence % cfg.to.length];
  const messageId = `<${cfg.user}.${sequence}.${process.pid}@${cfg.domain}>`;
  const transport = nodemailer.createTransport({
    host: cfg.server,
    port: cfg.ports.submission,
    secure: false,
    ignoreTLS: true,
    auth: { user: cfg.user, pass: cfg.password },
    logger,
    debug: true,
  });
  try {
    const started = performance.now();
    await transport.sendMail({
      from: `${cfg.user}@${cfg.domain}`,
      to: `${to}@${cfg.domain}`,
      subject: `classroom ${cfg.user} #${sequence}`,
      messageId,
      text: `Message ${sequence} from ${cfg.user} to ${to}.\n`,
    });
    record('SMTP whole submission', performance.now() - started);
    sent.push({ messageId, to });
  } catch (err) {
    fail('smtp', err);
  } finally {
    transport.close();
  }
}

// --- FTP, HTTP, check ---------------------------------------------------------------------------

async function ftpDownload() {
  const client = new FtpClient(60_000);
  const timer = commandTimer('FTP');
  client.ftp.verbose = true;
  client.ftp.log = (message) => {
    if (message.startsWith('> ')) timer.command(/^> ([A-Za-z]+)/.exec(message)?.[1]?.toUpperCase() ?? null);
    else if (message.startsWith('< ')) timer.reply();
  };
  try {
    await client.access({ host: cfg.server, port: cfg.ports.ftp, user: cfg.user, password: cfg.password });
    const sink = countingSink();
    const started = performance.now();
    await client.downloadTo(sink, cfg.ftpFile);
    result.ftp = { bytes: sink.bytes, ms: Math.round(performance.now() - started) };
    if (sink.bytes !== cfg.ftpBytes) fail('ftp', `downloaded ${sink.bytes} bytes of ${cfg.ftpBytes}`);
  } catch (err) {
    fail('ftp', err);
  } finally {
    client.close();
  }
}

async function httpGet(path, op) {
  const started = performance.now();
  try {
    const response = await fetch(`http://${cfg.server}:${cfg.ports.http}${path}`);
    record(`${op} (headers)`, performance.now() - started);
    await response.arrayBuffer();
    if (response.status !== 200) fail(op, `GET ${path}: HTTP ${response.status}`);
  } catch (err) {
    fail(op, err);
  }
}

function runCheck() {
  if (!cfg.check) return Promise.resolve();
  return new Promise((resolve) => {
    const child = spawn(cfg.check.command, cfg.check.args, {
      env: { ...process.env, ...cfg.check.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (err) => {
      result.check = { code: null, output: String(err) };
      resolve();
    });
    child.on('exit', (code) => {
      result.check = { code, output: output.slice(-2000) };
      resolve();
    });
  });
}

// --- the run ------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  // Loaded (Node and the three clients' modules: a few hundred ms of CPU each, 30 of them on the
  // server's two cores): wait until every PC is, so that the logins measured below do not queue
  // behind the load generator's own start-up. In a class, each PC starts its clients on its own CPU.
  process.stdout.write(`${JSON.stringify({ phase: 'loaded' })}\n`);
  await nextLine();
  // Thirty PCs do not start in the same millisecond: spread the logins over five seconds.
  await sleep(Math.random() * 5000);
  // The mail client is open first, IDLE on its three folders, as in a class before the exercise.
  const imaps = [];
  await Promise.all(
    cfg.folders.map((folder) =>
      imapConnection(folder).then(
        (client) => imaps.push(client),
        (err) => fail(`imap ${folder}`, err),
      ),
    ),
  );
  // Then the whole class at once: the run says go when every PC is ready.
  process.stdout.write(`${JSON.stringify({ phase: 'ready' })}\n`);
  await nextLine();
  const end = Date.now() + cfg.durationMs;
  // Thirty students are not in step: each starts their rounds (a mail, two pages every 10 s) and
  // their download at their own moment of the first round, not all thirty in the same millisecond.
  await sleep(Math.random() * cfg.sendEveryMs);
  const ftp = ftpDownload();
  const logger = smtpLogger();
  let checked = null;
  const checkAt = Date.now() + Math.random() * cfg.durationMs * 0.7;
  while (Date.now() < end) {
    const round = Date.now();
    await Promise.all([
      sendOne(logger),
      httpGet(`/~${cfg.user}/`, 'HTTP GET ~page'),
      httpGet('/', 'HTTP GET /'),
    ]);
    // Once, at a moment of the run that differs per student (30 at once would be a start-up storm).
    if (!checked && Date.now() >= checkAt) checked = runCheck();
    await sleep(Math.max(0, Math.min(cfg.sendEveryMs - (Date.now() - round), end - Date.now())));
  }
  // INBOX first: the one whose IDLE is watched for new mail.
  imaps.sort((a, b) => Number(Boolean(b.drain)) - Number(Boolean(a.drain)));
  await ftp;
  await (checked ?? runCheck());
  // Done sending: say so, and wait for the run to say which messages this INBOX must receive (the
  // classmates may still be sending theirs). IDLE goes on meanwhile.
  process.stdout.write(`${JSON.stringify({ phase: 'sent', sent })}\n`);
  const expected = await expectedMessages();
  const deadline = Date.now() + (cfg.graceMs ?? 20_000);
  while (expected.some((id) => !inboxSeen.includes(id)) && Date.now() < deadline) await sleep(50);
  await imaps[0]?.drain?.();
  stopping = true;
  await Promise.all(imaps.map((c) => c.logout().catch(() => c.close())));
}

/** Lines the run writes on stdin: "connect", "go", then {"expect": [Message-ID…]}. */
const lines = [];
let lineWaiter = null;
let input = '';
process.stdin.on('data', (d) => {
  input += d;
  for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
    lines.push(input.slice(0, nl));
    input = input.slice(nl + 1);
  }
  if (lines.length && lineWaiter) lineWaiter();
});
process.stdin.on('end', () => lineWaiter?.());

async function nextLine() {
  if (!lines.length) await new Promise((resolve) => (lineWaiter = resolve));
  lineWaiter = null;
  return lines.shift() ?? '';
}

async function expectedMessages() {
  const line = await nextLine();
  return line ? (JSON.parse(line).expect ?? []) : [];
}

const watchdog = setTimeout(() => {
  fail('agent', `still running ${cfg.durationMs + 240_000} ms after it started`);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(1));
}, cfg.durationMs + 240_000);
main()
  .catch((err) => fail('agent', err))
  .finally(() => {
    clearTimeout(watchdog);
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
  });
