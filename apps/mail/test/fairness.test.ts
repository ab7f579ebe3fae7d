// Issue #20, "one client can stall everyone": one client pipelines heavy work (POP3 UIDL, LIST
// and RETR; IMAP FETCH 1:* and SEARCH TEXT) on a 3,000-message INBOX while a probe connects every
// 100 ms, to SMTP, IMAP and POP3 in turn. Every probe must get its greeting, and the server must
// greet them WHILE it works for the heavy client, not after: in the server's own transcript, the
// probes' greetings come before the heavy session's last answer. (No timing assertion: the order of
// events in one process is what is checked. The delays are printed; `npm run bench -- fairness`
// gives them on the workload.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailLab, startMailLab } from './helpers.js';

/** The 10,000 take half a minute to lay out here; the bench (9,800) has the size. */
const MESSAGES = 3_000;
let mail: MailLab;

/** Maildir files dropped into new/, as an MDA would: the store gives them UIDs at its first look. */
function fillInbox(dataDir: string): void {
  const dir = path.join(dataDir, 'mail', 'bob');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (let n = 0; n < MESSAGES; n++) {
    const text = [
      `From: sender${n % 50}@example.org`,
      'To: bob@lab.test',
      `Subject: fairness ${n}`,
      '',
      `Line ${n} of a message.\r\n`.repeat(10) + (n % 100 === 0 ? 'zanzibar\r\n' : ''),
    ].join('\r\n');
    writeFileSync(path.join(dir, 'new', `${1700000000 + n}.P${n}.fairness`), text);
  }
}

beforeAll(async () => {
  mail = await startMailLab();
  fillInbox(mail.lab.dataDir);
  // The first look gives the UIDs; the heavy clients below start after it.
  const first = await Heavy.open(mail.lab.ports.pop3, 'USER bob\r\nPASS builder\r\n', /^\+OK bob has/m);
  first.socket.destroy();
}, 120_000);
afterAll(() => mail?.stop());

/** A client that sends its work at once and counts the answers' terminators as they come. */
class Heavy {
  /** The end of the last chunk: a terminator may be split between two. */
  private carry = Buffer.alloc(0);
  answers = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    readonly socket: Socket,
    terminator: Buffer,
  ) {
    // Reading must stay cheap: this process also runs the probes.
    socket.on('data', (chunk: Buffer) => {
      const bytes = Buffer.concat([this.carry, chunk]);
      for (let at = bytes.indexOf(terminator); at !== -1; at = bytes.indexOf(terminator, at + 1))
        this.answers++;
      this.carry = bytes.subarray(Math.max(0, bytes.length - terminator.length + 1));
      for (const w of this.waiters.filter((w) => this.answers >= w.count)) w.resolve();
      this.waiters = this.waiters.filter((w) => this.answers < w.count);
    });
  }

  static async open(port: number, login: string, loggedIn: RegExp, terminator = '\r\n.\r\n') {
    const socket = connect(port, '127.0.0.1');
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (loggedIn.test(seen)) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData).once('error', reject);
      socket.write(login);
    });
    return new Heavy(socket, Buffer.from(terminator));
  }

  until(count: number): Promise<void> {
    if (this.answers >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

interface Probe {
  service: 'smtp' | 'imap' | 'pop3';
  greeting: string;
  ms: number;
}

/**
 * Probes every 100 ms, SMTP, IMAP, POP3 in turn, until `done` settles; each reads its greeting.
 * `greeted` counts the greetings per service as they come.
 */
async function probeUntil(done: Promise<unknown>, greeted: Record<string, number> = {}): Promise<Probe[]> {
  const services = ['smtp', 'imap', 'pop3'] as const;
  const probes: Promise<Probe>[] = [];
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  for (let i = 0; !finished; i++) {
    const service = services[i % 3]!;
    const started = performance.now();
    probes.push(
      new Promise((resolve, reject) => {
        const socket = connect(mail.lab.ports[service], '127.0.0.1');
        socket.once('data', (chunk) => {
          greeted[service] = (greeted[service] ?? 0) + 1;
          resolve({ service, greeting: chunk.toString('latin1'), ms: performance.now() - started });
          socket.end();
        });
        socket.once('error', reject);
      }),
    );
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  return Promise.all(probes);
}

/**
 * The server's transcript of one service, in the order it wrote it: greetings of the probes
 * (their first server line) and the answers of the heavy session.
 */
function transcript(service: string): { session: string; dir: string; line: string }[] {
  const dir = path.join(mail.lab.dataDir, 'log');
  return [`${service}.1.ndjson`, `${service}.ndjson`].flatMap((file) => {
    try {
      return readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === 'line');
    } catch {
      return [];
    }
  });
}

/**
 * The probes' greetings the server wrote before the heavy session's `nth` answer (the end of its
 * in-memory work), and how many of them it wrote INSIDE one of the heavy client's batches: after
 * the batch's first command and before its last answer. The client sends a batch of `batch`
 * commands at once and the next only when all are answered, so a stalled server, which answers a
 * whole batch in one turn of its loop, greets no probe inside a batch (before the fix: none, the
 * probes greeted in one run once the batch was done); a fair one lets them in between two commands.
 * Counted by order in the server's own transcript, not by time: a loaded machine that deschedules
 * the server for a while changes when the greetings come, not where they fall. The transcript is
 * read once it holds that answer (it is written once per turn of the server's loop, maybe after
 * the client read it).
 */
async function greetedDuringHeavyWork(
  service: string,
  greeting: RegExp,
  command: RegExp,
  answer: RegExp,
  nth: number,
  batch: number,
): Promise<{ during: number; inside: number }> {
  const find = () => {
    const lines = transcript(service);
    const heavy = lines.find((e) => e.dir === 'C' && command.test(e.line))?.session;
    let seen = 0;
    const at = lines.findIndex(
      (e) => e.session === heavy && e.dir === 'S' && answer.test(e.line) && ++seen === nth,
    );
    return { lines, at, heavy };
  };
  const { lines, at, heavy } = await waitFor(
    () => {
      const found = find();
      return found.at === -1 ? undefined : found;
    },
    { what: `the heavy session's answer ${nth} in the ${service} transcript` },
  );
  const greeted = new Set<string>();
  let during = 0;
  let inside = 0;
  let commands = 0;
  let answers = 0;
  for (const e of lines.slice(0, at)) {
    if (e.session === heavy) {
      if (e.dir === 'C' && command.test(e.line)) commands++;
      if (e.dir === 'S' && answer.test(e.line)) answers++;
      continue;
    }
    if (e.dir !== 'S' || !greeting.test(e.line) || greeted.has(e.session)) continue;
    greeted.add(e.session);
    during++;
    // The batch of the last command read is not wholly answered yet.
    if (commands > 0 && answers < Math.ceil(commands / batch) * batch) inside++;
  }
  return { during, inside };
}

/**
 * Sends `batch(k)` (in-memory work of `answers` answers) again and again, each once the last was
 * answered, until `enough()` (probes of the service greeted meanwhile) or 20 batches: on a quiet
 * machine one batch can be over before the first probe. Returns the answers the work gave.
 */
async function keepBusy(
  heavy: Heavy,
  batch: (k: number) => string,
  answers: number,
  enough: () => boolean,
): Promise<number> {
  let expected = 0;
  for (let k = 0; k < 20 && (k === 0 || !enough()); k++) {
    heavy.socket.write(batch(k));
    expected += answers;
    await heavy.until(expected);
  }
  return expected;
}

function report(name: string, probes: Probe[]): void {
  const ms = probes.map((p) => p.ms).sort((a, b) => a - b);
  console.log(
    `${name}: ${probes.length} probes, greeting delays (ms) p50 ${ms[Math.floor(ms.length / 2)]?.toFixed(1)}, max ${ms.at(-1)?.toFixed(1)}`,
  );
}

describe('one heavy client does not stall the others (issue #20)', () => {
  it('POP3: batches of 300 pipelined UIDL and LIST, then RETR, on 3,000 messages; probes greeted meanwhile', async () => {
    const heavy = await Heavy.open(mail.lab.ports.pop3, 'USER bob\r\nPASS builder\r\n', /^\+OK bob has/m);
    // UIDL and LIST are made in memory: nothing in them waits for the disk, so only pacing lets
    // other connections in (RETR reads the disk, and the loop goes round at each one anyway).
    const greeted: Record<string, number> = {};
    const listings = Array.from({ length: 300 }, (_, n) => (n % 2 === 0 ? 'UIDL\r\n' : 'LIST\r\n')).join('');
    const done = (async () => {
      const inMemory = await keepBusy(
        heavy,
        () => listings,
        300,
        () => (greeted.pop3 ?? 0) >= 4,
      );
      heavy.socket.write(Array.from({ length: 10 }, (_, n) => `RETR ${n + 1}\r\n`).join(''));
      await heavy.until(inMemory + 10);
      return inMemory;
    })();
    const probes = await probeUntil(done, greeted);
    const inMemory = await done;
    heavy.socket.end('QUIT\r\n');
    report('POP3 heavy', probes);
    // Every probe got its greeting, from the right server.
    for (const p of probes)
      expect(p.greeting).toMatch({ smtp: /^220 /, imap: /^\* OK /, pop3: /^\+OK / }[p.service]);
    // The POP3 probes were greeted while the heavy session still had answers to give.
    const pop3Probes = probes.filter((p) => p.service === 'pop3').length;
    expect(pop3Probes).toBeGreaterThanOrEqual(2);
    // Before the last listing ended: all but the probes that came as the listings ended.
    const { during, inside } = await greetedDuringHeavyWork(
      'pop3',
      /^\+OK portlab POP3 server ready/,
      /^(UIDL|LIST)$/,
      /^\.$/,
      inMemory,
      300,
    );
    expect(during).toBeGreaterThanOrEqual(pop3Probes - 2);
    // And some of them in the middle of a batch, between two of its commands.
    expect(inside).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('IMAP: batches of 200 pipelined SEARCH UNSEEN (ESEARCH COUNT), then FETCH 1:* (UID FLAGS) and SEARCH TEXT, on 3,000 messages; probes greeted meanwhile', async () => {
    const heavy = await Heavy.open(
      mail.lab.ports.imap,
      'a LOGIN bob builder\r\ns SELECT INBOX\r\n',
      /^s OK/m,
      '\r\nh', // the tagged answers (untagged ones start with a star)
    );
    // SEARCH UNSEEN and FETCH 1:* are answered from memory (the folder's index): no disk wait.
    // ESEARCH's COUNT keeps the answers short: the client reads them at once, and a greeting never
    // waits behind answers the heavy client has not read yet (then the session rightly waits).
    const greeted: Record<string, number> = {};
    const searches = (k: number) =>
      Array.from({ length: 200 }, (_, n) => `h${k * 200 + n} SEARCH RETURN (COUNT) UNSEEN\r\n`).join('');
    const done = (async () => {
      const inMemory = await keepBusy(heavy, searches, 200, () => (greeted.imap ?? 0) >= 4);
      heavy.socket.write(
        Array.from({ length: 10 }, (_, n) => `f${n} FETCH 1:* (UID FLAGS)\r\n`).join('') +
          'h99999 SEARCH TEXT zanzibar\r\n',
      );
      await heavy.until(inMemory + 1);
      return inMemory;
    })();
    const probes = await probeUntil(done, greeted);
    const inMemory = await done;
    heavy.socket.end('z LOGOUT\r\n');
    report('IMAP heavy', probes);
    for (const p of probes)
      expect(p.greeting).toMatch({ smtp: /^220 /, imap: /^\* OK /, pop3: /^\+OK / }[p.service]);
    const imapProbes = probes.filter((p) => p.service === 'imap').length;
    expect(imapProbes).toBeGreaterThanOrEqual(2);
    // Before the last in-memory SEARCH was answered.
    const { during, inside } = await greetedDuringHeavyWork(
      'imap',
      /^\* OK \[CAPABILITY/,
      /^h\d+ SEARCH RETURN/,
      /^h\d+ OK SEARCH/,
      inMemory,
      200,
    );
    expect(during).toBeGreaterThanOrEqual(imapProbes - 2);
    // And some of them in the middle of a batch, between two of its commands.
    expect(inside).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
