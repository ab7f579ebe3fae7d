// Mail relayed between two labs (`npm run bench -- relay`, or `node scripts/bench/relay.js` after a
// build). Lab A (127.0.0.2, pca.lab.test) and lab B (127.0.0.3, pcb.lab.test), each the real mail
// app with its own data dir, their MX on the same port as in a class (25 + the offset), and the
// class DNS (apps/dns, the teacher's app, on 127.0.0.1) with their A and MX records. Clients submit to A (AUTH) messages for bob@pcb.lab.test:
// A queues each one durably (file and directory fsync'ed before its 250), delivers it to B's MX by
// SMTP, B stores it in bob's Maildir (fsync'ed again) and A removes it from its queue.
//  1. throughput: BATCH messages over 16 connections as fast as A takes them; messages/s from the
//     first MAIL FROM to the last file in B's Maildir;
//  2. latency: PACED_RATE messages/s (well under that throughput, so no backlog builds up) for
//     PACED_SECONDS; p50/p99 from the MAIL FROM at A to the file appearing in B's Maildir.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { ZoneRegistry } from '@portlab/dns';
import { freePortRange, startMailApp } from '@portlab/testkit';
import { smtpClient } from '../lib/smtp-client.js';

const CONNECTIONS = 16;
const BATCH = 2000;
const PACED_RATE = 20;
const PACED_SECONDS = 10;
const MESSAGE_BYTES = 10 * 1024;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function message(id) {
  const head = `From: alice@pca.lab.test\r\nTo: bob@pcb.lab.test\r\nMessage-ID: <${id}>\r\nSubject: bench\r\n\r\n`;
  const line = `${'x'.repeat(76)}\r\n`;
  const body = line.repeat(Math.ceil((MESSAGE_BYTES - head.length) / line.length));
  return Buffer.from(`${head}${body.slice(0, MESSAGE_BYTES - head.length - 2)}\r\n.\r\n`);
}

/** One submission connection to lab A (logged in as alice if `auth`); `next()` gives the next Message-ID to send, or null. */
async function submitter(target, id, next, submittedAt) {
  const c = await smtpClient(target.port, target.host);
  await c.reply('220');
  c.socket.write(`EHLO bench${id}\r\n`);
  await c.reply('250');
  if (target.auth) {
    c.socket.write(`AUTH PLAIN ${Buffer.from('\0alice\0wonderland').toString('base64')}\r\n`);
    await c.reply('235');
  }
  for (let messageId = await next(); messageId; messageId = await next()) {
    submittedAt.set(`<${messageId}>`, performance.now());
    // RFC 2920: MAIL, RCPT and DATA in one packet, then their three replies.
    c.socket.write('MAIL FROM:<alice@pca.lab.test>\r\nRCPT TO:<bob@pcb.lab.test>\r\nDATA\r\n');
    await c.reply('250');
    await c.reply('250');
    await c.reply('354');
    c.socket.write(message(messageId));
    await c.reply('250');
  }
  c.socket.write('QUIT\r\n');
  await c.reply('221');
  c.socket.end();
}

/**
 * Submits to A (`target`) and watches B's Maildir `inbox` (inotify): the throughput of a batch, then
 * the latency at a paced rate.
 */
async function measure({ target, inbox, label, how }) {
  // Arrivals in bob's Maildir at B, as the files appear (inotify).
  const submittedAt = new Map();
  let arrivals = [];
  const watcher = watch(inbox, (_event, name) => {
    if (!name) return;
    const now = performance.now();
    let text;
    try {
      text = readFileSync(path.join(inbox, name), 'latin1').slice(0, 4096);
    } catch {
      return; // already moved on, or a rename's first half
    }
    const id = /^Message-ID: (<[^>]*>)/im.exec(text)?.[1];
    const at = id && submittedAt.get(id);
    if (at === undefined) return;
    submittedAt.delete(id);
    arrivals.push({ at: now, latency: now - at });
  });
  const drain = async () => {
    const until = Date.now() + 120_000;
    while (submittedAt.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (submittedAt.size) console.log(`  ${submittedAt.size} messages not arrived after 120 s`);
  };

  // 1. Throughput.
  let sent = 0;
  const start = performance.now();
  const batchNext = async () => (sent < BATCH ? `bench.${sent++}@pca.lab.test` : null);
  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => submitter(target, i, batchNext, submittedAt)),
  );
  const submittedIn = (performance.now() - start) / 1000;
  await drain();
  const relayedIn = (Math.max(...arrivals.map((a) => a.at)) - start) / 1000;
  console.log(
    `${label}: ${BATCH} messages of ${MESSAGE_BYTES} bytes, alice@pca.lab.test (A) -> bob@pcb.lab.test (B), ${CONNECTIONS} submission connections;`,
  );
  console.log(`  ${how}`);
  console.log(
    `  submitted to A in ${submittedIn.toFixed(1)} s (${(BATCH / submittedIn).toFixed(0)} messages/s); ${arrivals.length} in B's Maildir after ${relayedIn.toFixed(1)} s: ${(arrivals.length / relayedIn).toFixed(0)} messages/s relayed`,
  );

  // 2. Latency, at a rate the relay keeps up with: one message every 1/PACED_RATE s.
  arrivals = [];
  let paced = 0;
  const pacedStart = performance.now();
  const pacedNext = async () => {
    if (paced >= PACED_RATE * PACED_SECONDS) return null;
    const n = paced++;
    const due = pacedStart + (n * 1000) / PACED_RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    return `paced.${n}@pca.lab.test`;
  };
  await Promise.all(Array.from({ length: 4 }, (_, i) => submitter(target, i, pacedNext, submittedAt)));
  await drain();
  watcher.close();
  const latencies = arrivals.map((a) => a.latency).sort((x, y) => x - y);
  console.log(
    `  at ${PACED_RATE} messages/s for ${PACED_SECONDS} s: submission (MAIL FROM at A) -> B's Maildir p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${latencies.length} messages)`,
  );
}

// The reference: Postfix relaying to Postfix, two instances already running (see
// scripts/lib/postfix-pair.sh, which prints this command line): A's SMTP port, B's Maildir.
const postfixAt = process.argv.indexOf('--postfix');
if (postfixAt !== -1) {
  const [port, inbox] = process.argv.slice(postfixAt + 1);
  if (!port || !inbox) throw new Error('usage: relay.js --postfix A_PORT B_MAILDIR_NEW');
  await measure({
    target: { host: '127.0.0.1', port: Number(port), auth: false },
    inbox,
    label: 'postfix -> postfix',
    how: "A's queue and B's Maildir as Postfix keeps them (fsync'ed), transport_maps to B: no DNS",
  });
  process.exit(0);
}

/**
 * The teacher's class DNS: apps/dns on 127.0.0.1:`port` (UDP and TCP), with the two labs listed as
 * `portlab dns add` lists them (an A and an MX record each). Resolves once it answers; `stop()` ends it.
 */
async function startClassDns(folder, port, labs) {
  const dataDir = path.join(folder, 'var');
  const registry = new ZoneRegistry(path.join(dataDir, 'dns'));
  for (const [name, address] of Object.entries(labs)) registry.add(name, address);
  const configFile = path.join(folder, 'portlab.config.json');
  writeFileSync(configFile, JSON.stringify({ dataDir, ports: { dns: port } }));
  const env = { ...process.env, PORTLAB_CONFIG: configFile };
  for (const name of ['PORTLAB_DATA_DIR', 'PORTLAB_HOST', 'PORTLAB_PUBLIC_ADDRESS', 'PORTLAB_PORT_OFFSET'])
    delete env[name];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'apps', 'dns', 'dist', 'main.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve, reject) => {
    child.on('message', (m) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`the class DNS exited (${code}) before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    server: `127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-bench-relay-'));
const block = await freePortRange(8);
const dns = await startClassDns(path.join(dir, 'teacher'), block.from + 7, {
  pca: '127.0.0.2',
  pcb: '127.0.0.3',
});
const names = ['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps'];
const extra = {
  portOffset: block.from - 25,
  ports: Object.fromEntries(names.map((name, i) => [name, block.from + i])),
};
const relay = { dns: dns.server, retry: { firstDelayMs: 1000, maxDelayMs: 5000 } };
const labs = [];
try {
  for (const [host, domain] of [
    ['127.0.0.2', 'pca.lab.test'],
    ['127.0.0.3', 'pcb.lab.test'],
  ]) {
    labs.push(await startMailApp({ dir: path.join(dir, domain), host, domain, relay, extra }));
  }
  const inbox = path.join(labs[1].dataDir, 'mail', 'bob', 'new');
  mkdirSync(inbox, { recursive: true });
  await measure({
    target: { host: '127.0.0.2', port: block.from + 1, auth: true },
    inbox,
    label: 'relay',
    how: "A's queue and B's Maildir fsync'ed before each 250; MX found through the class DNS (apps/dns, UDP)",
  });
} finally {
  for (const lab of labs) await lab.stop();
  await dns.stop();
  rmSync(dir, { recursive: true, force: true });
}
