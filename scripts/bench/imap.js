// IMAP benchmark (`npm run bench -- imap`, or `node scripts/bench/imap.js` after a build).
// Starts its own IMAP server in a child process on a free port over a temporary data dir, fills
// bob's INBOX with 10,000 messages (2-20 KB, one in five multipart), then times what a mail
// client does: SELECT, FETCH 1:* (UID FLAGS), UID FETCH of 100 whole messages, the first-sync
// header fetch, SEARCH TEXT; then 50 concurrent clients in a mixed workload; then 500 idle
// connections and the memory they cost the server process. Prints figures; asserts nothing.
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

// `node scripts/bench/imap.js 1000` for a quick run on a smaller mailbox.
const MESSAGES = Number(process.argv[2] === '--server' ? process.argv[3] : process.argv[2]) || 10_000;
const CLIENTS = 50;
const IDLERS = 10;
const MIXED_SECONDS = 15;
const IDLE_CONNECTIONS = 500;

// --- the server child ---------------------------------------------------------------------------

async function serve() {
  const { loadConfig } = await import('@portlab/config');
  const { MailStore } = await import('@portlab/mailstore');
  const { AppRuntime, LoginThrottle } = await import('@portlab/service');
  const { tempLab } = await import('@portlab/testkit');
  const { createImapServer } = await import('@portlab/imap');
  const lab = await tempLab();
  const config = loadConfig({ file: lab.configFile, env: {} });
  const runtime = new AppRuntime('mail', config);
  await runtime.users.ensure();
  const store = new MailStore(config.paths.mail);
  const server = createImapServer({
    store,
    users: runtime.users,
    throttle: new LoginThrottle(),
    certificate: await runtime.certificate(),
    implicitTls: false,
    sessionOf: (socket) => runtime.sessionOf(socket),
    config,
  });
  await runtime.serve('imap', server);
  process.on('message', async (order) => {
    if (order.type === 'fill') {
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < MESSAGES) await store.deliver('bob', benchMessage(next++));
        }),
      );
      process.send({ type: 'filled', ms: performance.now() - started });
    } else if (order.type === 'deliver') {
      await store.deliver('bob', benchMessage(Math.floor(Math.random() * 1e6)));
    } else if (order.type === 'memory') {
      globalThis.gc?.();
      process.send({ type: 'memory', ...process.memoryUsage() });
    } else if (order.type === 'stop') {
      await runtime.shutdown();
      lab.cleanup();
      process.exit(0);
    }
  });
  // The benchmark gone (finished or crashed): leave nothing behind.
  process.on('disconnect', () => {
    lab.cleanup();
    process.exit(0);
  });
  process.send({ type: 'ready', port: lab.ports.imap });
}

/** 2-20 KB; every fifth multipart with an attachment; every hundredth holds the word "zanzibar". */
function benchMessage(n) {
  const size = 2048 + ((n * 7919) % 18_432);
  const line = `Line ${n} of a benchmark message, with enough words to look like mail text.\r\n`;
  const text =
    line.repeat(Math.ceil(size / line.length)).slice(0, size) + (n % 100 === 0 ? '\r\nzanzibar\r\n' : '\r\n');
  const head = [
    `From: Sender ${n % 50} <sender${n % 50}@example.org>`,
    'To: Bob <bob@lab.test>',
    `Subject: Benchmark message ${n}`,
    `Date: ${new Date(Date.UTC(2024, 0, 1) + n * 60_000).toUTCString()}`,
    `Message-ID: <bench-${n}@example.org>`,
    'MIME-Version: 1.0',
  ];
  if (n % 5 !== 0)
    return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n'));
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="bench-b"',
      '',
      '--bench-b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text.slice(0, text.length / 2),
      '--bench-b',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.alloc(text.length / 3, n % 256)
        .toString('base64')
        .replace(/.{76}/g, '$&\r\n'),
      '--bench-b--',
      '',
    ].join('\r\n'),
  );
}

// --- the clients --------------------------------------------------------------------------------

/** A minimal IMAP client: sends a tagged command, reads (literals included) up to its tagged answer. */
class Client {
  static async open(port) {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new Client(socket);
    await client.untilLine((line) => line.startsWith('* OK'));
    return client;
  }

  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.length = 0;
    this.literal = 0;
    this.waiter = null;
    this.count = 0;
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => {});
  }

  receive(chunk) {
    let at = 0;
    while (at < chunk.length) {
      if (this.literal > 0) {
        const take = Math.min(this.literal, chunk.length - at);
        this.literal -= take;
        at += take;
        continue;
      }
      const lf = chunk.indexOf(0x0a, at);
      if (lf === -1) {
        this.chunks.push(chunk.subarray(at));
        return;
      }
      this.chunks.push(chunk.subarray(at, lf));
      const line = Buffer.concat(this.chunks).toString('latin1').replace(/\r$/, '');
      this.chunks = [];
      at = lf + 1;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) this.literal = Number(literal[1]);
      this.waiter?.(line);
    }
  }

  untilLine(test) {
    return new Promise((resolve) => {
      this.waiter = (line) => {
        if (!test(line)) return;
        this.waiter = null;
        resolve(line);
      };
    });
  }

  async command(text) {
    const tag = `b${++this.count}`;
    const done = this.untilLine((line) => line.startsWith(`${tag} `));
    this.socket.write(`${tag} ${text}\r\n`);
    const line = await done;
    if (!line.startsWith(`${tag} OK`)) throw new Error(`${text} -> ${line}`);
    return line;
  }

  close() {
    this.socket.destroy();
  }
}

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
  const child = fork(fileURLToPath(import.meta.url), ['--server', String(MESSAGES)], {
    execArgv: ['--expose-gc'],
    stdio: 'inherit',
  });
  const messages = [];
  const waiters = [];
  child.on('message', (m) => {
    const w = waiters.findIndex((x) => x.type === m.type);
    if (w === -1) messages.push(m);
    else waiters.splice(w, 1)[0].resolve(m);
  });
  const next = (type) => {
    const i = messages.findIndex((m) => m.type === type);
    if (i !== -1) return Promise.resolve(messages.splice(i, 1)[0]);
    return new Promise((resolve) => waiters.push({ type, resolve }));
  };
  const { port } = await next('ready');
  console.log(
    `IMAP benchmark: ${MESSAGES} messages in bob's INBOX, server on 127.0.0.1:${port} (its own process)\n`,
  );

  child.send({ type: 'fill' });
  const { ms: fillMs } = await next('filled');
  console.log(
    `fill (store.deliver, 32 at once)     ${(MESSAGES / (fillMs / 1000)).toFixed(0)} messages/s (${ms(fillMs)})`,
  );

  const c = await Client.open(port);
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
  child.send({ type: 'memory' });
  const before = await next('memory');
  const idle = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    const client = await Client.open(port);
    await client.command('LOGIN bob builder');
    client.socket.write('i1 IDLE\r\n');
    idle.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  child.send({ type: 'memory' });
  const after = await next('memory');
  const perConnection = (after.rss - before.rss) / IDLE_CONNECTIONS / 1024;
  const heapPer = (after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS / 1024;
  console.log(
    `${IDLE_CONNECTIONS} idle connections (logged in, IDLE)   ${perConnection.toFixed(1)} KB RSS and ${heapPer.toFixed(1)} KB heap each`,
  );
  for (const client of idle) client.close();

  const selected = [];
  child.send({ type: 'memory' });
  const before2 = await next('memory');
  for (let i = 0; i < 50; i++) {
    const client = await Client.open(port);
    await client.command('LOGIN bob builder');
    await client.command('SELECT INBOX');
    client.socket.write('i1 IDLE\r\n');
    selected.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  child.send({ type: 'memory' });
  const after2 = await next('memory');
  console.log(
    `50 idle connections with the ${MESSAGES}-message INBOX selected: ${((after2.heapUsed - before2.heapUsed) / 50 / 1024).toFixed(1)} KB heap each`,
  );
  for (const client of selected) client.close();

  // 50 clients: 40 busy with SELECT, header and body FETCH, STORE and NOOP; 10 in IDLE while mail arrives.
  const latencies = [];
  let errors = 0;
  const deadline = Date.now() + MIXED_SECONDS * 1000;
  const idlers = await Promise.all(
    Array.from({ length: IDLERS }, async () => {
      const idle = await Client.open(port);
      await idle.command('LOGIN bob builder');
      await idle.command('SELECT INBOX');
      idle.socket.write('i1 IDLE\r\n');
      return idle;
    }),
  );
  const deliveries = setInterval(() => child.send({ type: 'deliver' }), 250);
  const random = () => 1 + Math.floor(Math.random() * MESSAGES);
  const ops = [
    () => 'SELECT INBOX',
    () => {
      const start = random();
      return `UID FETCH ${start}:${start + 19} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])`;
    },
    () => `UID FETCH ${random()} BODY.PEEK[]`,
    () => `UID STORE ${random()} ${Math.random() < 0.5 ? '+' : '-'}FLAGS.SILENT (\\Flagged)`,
    () => 'NOOP',
  ];
  await Promise.all(
    Array.from({ length: CLIENTS - IDLERS }, async () => {
      const client = await Client.open(port);
      await client.command('LOGIN bob builder');
      await client.command('SELECT INBOX');
      while (Date.now() < deadline) {
        const op = ops[Math.floor(Math.random() * ops.length)]();
        const started = performance.now();
        try {
          await client.command(op);
          latencies.push(performance.now() - started);
        } catch {
          errors++;
        }
      }
      client.close();
    }),
  );
  clearInterval(deliveries);
  for (const idle of idlers) idle.close();
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  console.log(
    `mixed, ${CLIENTS} clients (${IDLERS} in IDLE)         ${(latencies.length / MIXED_SECONDS).toFixed(0)} ops/s, p99 ${ms(p99)}, ${errors} errors`,
  );

  child.send({ type: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
}

if (process.argv[2] === '--server') await serve();
else await bench();
