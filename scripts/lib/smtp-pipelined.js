// The project's own SMTP workload (`npm run bench -- smtp --pipelined`): friendlier than
// smtp-source's (see scripts/bench/smtp.js), kept to compare with earlier figures.
// Starts its own mail app on free ports with a temporary data dir, opens 32 connections to the MX
// port, and has each send 10 KB messages to local users, one after the other, for a fixed time.
// Delivery is the real one: each 250 comes after the message file and its directory entry were
// fsync'ed. Prints messages/s and the latency from the end of DATA (the final ".") to the 250.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempLab } from '@portlab/testkit';
import { smtpClient } from '../lib/smtp-client.js';

const CONNECTIONS = 32;
const SECONDS = 10;
const MESSAGE_BYTES = 10 * 1024;
const WARMUP_MS = 1000;

const main = fileURLToPath(new URL('../../apps/mail/dist/main.js', import.meta.url));

function message(n) {
  const head = `From: bench@example.org\r\nTo: bob@lab.test\r\nSubject: bench ${n}\r\n\r\n`;
  const line = `${'x'.repeat(76)}\r\n`;
  const body = line.repeat(Math.ceil((MESSAGE_BYTES - head.length) / line.length));
  return Buffer.from(head + body.slice(0, MESSAGE_BYTES - head.length - 2) + '\r\n.\r\n');
}

async function sender(port, id, deadline, latencies, counted) {
  const c = await smtpClient(port);
  await c.reply('220');
  c.socket.write(`EHLO bench${id}\r\n`);
  await c.reply('250');
  for (let n = 0; Date.now() < deadline; n++) {
    const to = n % 2 ? 'alice' : 'bob';
    // RFC 2920: MAIL, RCPT and DATA go in one packet; the client then waits for their replies.
    c.socket.write(`MAIL FROM:<bench@example.org>\r\nRCPT TO:<${to}@lab.test>\r\nDATA\r\n`);
    await c.reply('250');
    await c.reply('250');
    await c.reply('354');
    const started = process.hrtime.bigint();
    c.socket.write(message(n));
    await c.reply('250');
    if (counted()) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  c.socket.write('QUIT\r\n');
  await c.reply('221');
  c.socket.end();
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function pipelined() {
  const lab = await tempLab();
  const app = fork(main, [], { env: lab.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise((resolve, reject) => {
      app.on('message', (m) => m.type === 'ready' && resolve());
      app.once('exit', (code) => reject(new Error(`the mail app exited with ${code}`)));
    });
    const start = Date.now();
    const measureFrom = start + WARMUP_MS;
    const deadline = measureFrom + SECONDS * 1000;
    const latencies = [];
    await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) =>
        sender(lab.ports.smtp, i, deadline, latencies, () => Date.now() >= measureFrom),
      ),
    );
    const elapsed = (Date.now() - measureFrom) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `smtp: ${CONNECTIONS} connections, ${MESSAGE_BYTES}-byte messages, fsync'ed delivery to Maildir, ${SECONDS} s after ${WARMUP_MS} ms warm-up`,
    );
    console.log(`  ${latencies.length} messages, ${(latencies.length / elapsed).toFixed(0)} messages/s`);
    console.log(
      `  end of DATA -> 250: p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    );
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
    lab.cleanup();
  }
}
