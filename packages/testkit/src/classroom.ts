/**
 * The virtual classroom run (issue 13, "Prove it on a real network, on one machine"), shared by
 * test/classroom.test.ts and `npm run bench -- class`:
 *   1. the network (netns.ts): a switch, the teacher's PC, N student PCs, shaped links;
 *   2. the class accounts (createClass), a big file in each FTP home and a ~page each;
 *   3. `portlab up` in the teacher's namespace, bound to the teacher's LAN address;
 *   4. one agent per student PC (test/classroom/student.js), all at once: IMAP IDLE, SMTP, FTP,
 *      HTTP, `portlab check 02` (checkAs);
 *   5. what they report, summed: latencies per operation, errors, deliveries checked on the
 *      server's disk (each Message-ID sent found exactly once in its recipient's INBOX), and the
 *      teacher's board (boardStudents).
 * Every step that waits has a deadline and says what it waited for.
 */
import type { ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { maildirMessages } from './mail-lab.js';
import { type ClassroomNetwork, createClassroomNetwork, type NetHost } from './netns.js';

/** The `portlab` command as npm links it. */
export const PORTLAB_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'portlab.js');
/** A student's PC: test/classroom/student.js. */
export const STUDENT_AGENT = path.join(REPO_ROOT, 'test', 'classroom', 'student.js');

/** The lab's ports inside the classroom: the default port plan (offset 8000), nothing else is there. */
export const CLASS_PORTS = { submission: 8587, imap: 8143, ftp: 8021, http: 8080, tracker: 6969, peer: 6881 };

export interface Student {
  name: string;
  password: string;
  host: NetHost;
}

export interface ClassLab {
  net: ClassroomNetwork;
  /** The temporary folder of the run: data dir, config, runtime dir. */
  dir: string;
  dataDir: string;
  /** Environment for a `portlab` command of this lab (data dir, config, host). */
  env: NodeJS.ProcessEnv;
  server: string;
  domain: string;
  teacher: { name: string; password: string };
  students: Student[];
  /** What `portlab up` printed so far. */
  output(): string;
  /** Stops the lab (Ctrl-C), deletes the namespaces and the temporary folder. */
  stop(): Promise<void>;
}

export interface ClassLabOptions {
  students: number;
  shaping?: ClassroomNetwork['shaping'];
  /** Size of the file each student downloads by FTP (default 10 MB). */
  ftpBytes?: number;
  /** Called before `portlab up`, with the data dir made and the accounts in it: files to put in place. */
  prepare?: (lab: {
    dataDir: string;
    dir: string;
    server: string;
    students: Student[];
  }) => void | Promise<void>;
}

const DOMAIN = 'lab.test';
const FTP_FILE = 'ten.bin';

/**
 * The class accounts, e01 … eNN and `teacher`, made by the teacher's `portlab class create
 * --students N` on the teacher's PC, each with its password in clear: the students' read from the
 * credential cards it writes ($DATA/class/cards.html), the teacher's from what it prints.
 */
export async function createClass(
  net: ClassroomNetwork,
  env: NodeJS.ProcessEnv,
  dataDir: string,
  count: number,
): Promise<{ students: { name: string; password: string }[]; teacher: { name: string; password: string } }> {
  const child = net.spawn(
    net.teacher,
    process.execPath,
    [PORTLAB_BIN, 'class', 'create', '--students', String(count), '--lang', 'en'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { code, stdout, stderr } = await collect(child, 120_000, 'portlab class create');
  if (code !== 0) throw new Error(`portlab class create exited ${code}:\n${stdout}${stderr}`);
  const teacher = /Teacher: teacher \/ (\S+)/.exec(stdout)?.[1];
  if (!teacher) throw new Error(`portlab class create printed no teacher's password:\n${stdout}`);
  // The English cards: <dt>Account</dt><dd><code>e07</code></dd> <dt>Password</dt><dd><code class="secret">…
  const html = readFileSync(path.join(dataDir, 'class', 'cards.html'), 'utf8');
  const students = [
    ...html.matchAll(
      /<dt>Account<\/dt><dd><code>([^<]+)<\/code><\/dd>\s*<dt>Password<\/dt><dd><code class="secret">([^<]+)<\/code>/g,
    ),
  ].map((m) => ({ name: m[1]!, password: m[2]! }));
  if (students.length !== count) {
    throw new Error(
      `${students.length} credential cards read in ${dataDir}/class/cards.html, ${count} expected`,
    );
  }
  return { students, teacher: { name: 'teacher', password: teacher } };
}

/**
 * `portlab check 02` as `student`, run on the student's PC: the command line the agent spawns. The
 * check runs on the class server, for that account only (`--server HOST:PORT --user NAME`, the
 * password in PORTLAB_PASSWORD as a script gives it); nothing of the lab's data dir is read here.
 */
export function checkAs(
  lab: Pick<ClassLab, 'server'>,
  student: Student,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    command: process.execPath,
    args: [
      PORTLAB_BIN,
      'check',
      '02',
      '--server',
      `${lab.server}:${CLASS_PORTS.http}`,
      '--user',
      student.name,
      '--lang',
      'en',
    ],
    env: { PORTLAB_PASSWORD: student.password, NO_COLOR: '1' },
  };
}

/** Runs `node -e SCRIPT` on a PC of the classroom and parses the JSON it prints. */
async function nodeOn(
  net: ClassroomNetwork,
  host: NetHost,
  script: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<unknown> {
  const child = net.spawn(host, process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code, stdout, stderr } = await collect(child, timeoutMs, `node on ${host.ns}`);
  if (code !== 0) throw new Error(`node on ${host.ns} exited ${code}: ${stderr}`);
  return JSON.parse(stdout);
}

/** One student on the teacher's board (apps/web, GET /api/class). */
export interface BoardStudent {
  name: string;
  connected: { service: string; since: string; peer: string }[];
  labs: Record<string, { done: number; total: number; items?: unknown[] }>;
}

/**
 * The teacher's board as JSON: GET /api/class, signed in (POST /api/session) as `account` (the
 * teacher by default), from a PC of the class (a student's by default): the board is the teacher's
 * by account, wherever the browser is. Throws, naming the HTTP status, when the board says no.
 */
export async function boardStudents(
  lab: ClassLab,
  from: NetHost = lab.students[0]!.host,
  account: { name: string; password: string } = lab.teacher,
): Promise<BoardStudent[]> {
  const base = `http://${lab.server}:${CLASS_PORTS.http}`;
  const script = `
    const base = ${JSON.stringify(base)};
    const signIn = await fetch(base + '/api/session', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: process.env.BOARD_USER, password: process.env.BOARD_PASSWORD }) });
    if (!signIn.ok) { console.log(JSON.stringify({ signIn: signIn.status })); process.exit(0); }
    const cookie = (signIn.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    const board = await fetch(base + '/api/class', { headers: { cookie } });
    console.log(JSON.stringify({ status: board.status, body: board.ok ? await board.json() : null }));`;
  const answer = (await nodeOn(
    lab.net,
    from,
    script,
    {
      BOARD_USER: account.name,
      BOARD_PASSWORD: account.password,
    },
    120_000,
  )) as { signIn?: number; status?: number; body?: { students?: BoardStudent[] } | null };
  if (answer.signIn) throw new Error(`sign-in as ${account.name}: HTTP ${answer.signIn}`);
  if (!answer.body?.students) throw new Error(`GET /api/class as ${account.name}: HTTP ${answer.status}`);
  return answer.body.students;
}

function collect(
  child: ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what}: no end after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Builds the classroom and starts the teacher's lab in it: accounts, each student's FTP file and
 * ~page, `portlab up` bound to the teacher's address. Resolves once every service listens.
 */
export async function startClassLab(options: ClassLabOptions): Promise<ClassLab> {
  const ftpBytes = options.ftpBytes ?? 10_000_000;
  const net = createClassroomNetwork({ students: options.students, shaping: options.shaping });
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-class-'));
  let up: ChildProcess | null = null;
  let output = '';
  const stop = async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      const exited = new Promise((resolve) => up!.once('exit', resolve));
      up.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (up.exitCode === null) up.kill('SIGKILL');
    }
    net.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dataDir = path.join(dir, 'var');
    const configFile = path.join(dir, 'portlab.config.json');
    // Each PC has its own address, so the per-address limits of a LAN fit as they are. The demo
    // accounts (made beside the class) keep their published passwords: no one else is on this network.
    writeFileSync(configFile, JSON.stringify({ dataDir, domain: DOMAIN, allowDemoPasswords: true }, null, 2));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORTLAB_CONFIG: configFile,
      PORTLAB_HOST: net.teacher.address,
      NO_COLOR: '1',
      XDG_RUNTIME_DIR: path.join(dir, 'run'),
    };
    for (const name of ['PORTLAB_DATA_DIR', 'PORTLAB_PORT_OFFSET']) delete env[name];
    mkdirSync(env.XDG_RUNTIME_DIR!, { recursive: true });
    const accounts = await createClass(net, env, dataDir, options.students);
    const students = accounts.students.map((s, i) => ({ ...s, host: net.students[i]! }));
    // One file on disk, hard-linked into every home: 30 homes, 10 MB written once.
    const big = path.join(dir, FTP_FILE);
    writeFileSync(big, Buffer.alloc(ftpBytes, 'portlab classroom\n'));
    for (const s of students) {
      const home = path.join(dataDir, 'files', s.name);
      mkdirSync(path.join(home, 'public_html'), { recursive: true }); // made by class create already
      linkSync(big, path.join(home, FTP_FILE));
      writeFileSync(
        path.join(home, 'public_html', 'index.html'),
        `<!doctype html><title>${s.name}</title><h1>${s.name}'s page</h1>\n`,
      );
    }
    await options.prepare?.({ dataDir, dir, server: net.teacher.address, students });
    up = net.spawn(net.teacher, process.execPath, [PORTLAB_BIN, 'up'], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = up;
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`portlab up in ${net.teacher.ns}: not listening after 100 s:\n${output}`)),
        100_000,
      );
      const check = () => {
        if (/services listening/.test(output)) {
          clearTimeout(deadline);
          if (/all services listening/.test(output)) resolve();
          else reject(new Error(`portlab up in ${net.teacher.ns}:\n${output}`));
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(deadline);
        reject(new Error(`portlab up in ${net.teacher.ns} exited (${code}):\n${output}`));
      });
    });
    return {
      net,
      dir,
      dataDir,
      env,
      server: net.teacher.address,
      domain: DOMAIN,
      teacher: accounts.teacher,
      students,
      output: () => output,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What one agent reported (test/classroom/student.js). */
export interface AgentReport {
  user: string;
  latencies: Record<string, number[]>;
  errors: { op: string; message: string }[];
  sent: { messageId: string; to: string }[];
  /** The Message-IDs its INBOX connection fetched: at SELECT, then on each EXISTS (once per UID). */
  inboxSeen: string[];
  /** Those announced by EXISTS while the connection was IDLE. */
  existsSeen: string[];
  ftp: { bytes: number; ms: number } | null;
  check: { code: number | null; output: string } | null;
}

export interface LoadOptions {
  durationMs: number;
  sendEveryMs?: number;
  /** Run halfway through the load, while every student is connected (e.g. read the board). */
  whileRunning?: () => Promise<unknown>;
}

/**
 * Runs every student's agent at once for `durationMs`; resolves with their reports. Once every
 * agent has sent all it sends, each is told which Message-IDs its INBOX must still see by IDLE
 * (what its classmates sent it), and ends when it has seen them (or after a grace period).
 */
export async function runStudents(lab: ClassLab, options: LoadOptions): Promise<AgentReport[]> {
  const names = lab.students.map((s) => s.name);
  const agents = lab.students.map((student, i) => {
    const config = {
      server: lab.server,
      ports: CLASS_PORTS,
      user: student.name,
      password: student.password,
      domain: lab.domain,
      // To the next classmate: every student receives as many messages as they send.
      to: [names[(i + 1) % names.length]],
      folders: ['INBOX', 'Lab', 'Notes'],
      durationMs: options.durationMs,
      sendEveryMs: options.sendEveryMs ?? 10_000,
      ftpFile: FTP_FILE,
      ftpBytes: statSync(path.join(lab.dataDir, 'files', student.name, FTP_FILE)).size,
      check: checkAs(lab, student),
    };
    const child = lab.net.spawn(student.host, process.execPath, [STUDENT_AGENT, JSON.stringify(config)], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.on('error', () => undefined); // an agent that died is reported by its exit, not by EPIPE
    // The agent's phases, one JSON line each on stdout: ready (IMAP IDLE), then sent.
    const phases = new Map<string, (value: Record<string, unknown>) => void>();
    const phase = (name: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        phases.set(name, resolve);
      });
    const loaded = phase('loaded');
    const ready = phase('ready');
    const sentPhase = phase('sent');
    let out = '';
    let last = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const name = /^\{"phase":"(\w+)"/.exec(line)?.[1];
        if (name) phases.get(name)?.(JSON.parse(line) as Record<string, unknown>);
        else last = line;
      }
    });
    child.once('exit', () => {
      for (const resolve of phases.values()) resolve({});
    });
    const sent = sentPhase.then((p) => (p.sent ?? []) as { messageId: string; to: string }[]);
    const report = collect(child, options.durationMs + 300_000, `the agent of ${student.name}`).then(
      ({ code, stderr }): AgentReport => {
        const line = `${last}${out}`.trim();
        try {
          const parsed = JSON.parse(line) as AgentReport;
          if (parsed.user === student.name) return parsed;
        } catch {}
        return {
          user: student.name,
          latencies: {},
          errors: [{ op: 'agent', message: `exited ${code} without a report: ${stderr.slice(-500)}` }],
          sent: [],
          inboxSeen: [],
          existsSeen: [],
          ftp: null,
          check: null,
        };
      },
    );
    return { student, child, loaded, ready, sent, report };
  });
  // Thirty Node processes starting at once take seconds of the two cores, which a class's PCs each
  // spend on their own CPU: the PCs connect (and the latencies count) once every agent has started.
  await Promise.all(agents.map((a) => a.loaded));
  for (const { child } of agents) child.stdin!.write('connect\n');
  // Every PC's mail client is open: the class starts at once.
  await Promise.all(agents.map((a) => a.ready));
  for (const { child } of agents) child.stdin!.write('go\n');
  let failedMidway: unknown = null;
  const midway = new Promise((resolve) => setTimeout(resolve, options.durationMs / 2))
    .then(() => options.whileRunning?.())
    .catch((err: unknown) => {
      failedMidway = err;
    });
  const sent = (await Promise.all(agents.map((a) => a.sent))).flat();
  await midway;
  for (const { student, child } of agents) {
    const expect = sent.filter((m) => m.to === student.name).map((m) => m.messageId);
    child.stdin!.end(`${JSON.stringify({ expect })}\n`);
  }
  const reports = await Promise.all(agents.map((a) => a.report));
  if (failedMidway) throw failedMidway;
  return reports;
}

/** The Message-IDs in a user's INBOX (Maildir new/ and cur/ on the server's disk), with repeats. */
export function inboxMessageIds(dataDir: string, user: string): string[] {
  return maildirMessages(dataDir, user)
    .map((m) => m.messageId)
    .filter(Boolean);
}

export interface Deliveries {
  sent: number;
  /** Sent and found exactly once in the recipient's INBOX. */
  exactlyOnce: number;
  missing: string[];
  duplicated: string[];
  /** Sent messages the recipient's mail client fetched from its INBOX (at SELECT or on EXISTS). */
  seenByClient: number;
  /** Of those, the ones announced by EXISTS while it was IDLE. */
  seenByIdle: number;
  /** Messages a client fetched more than once (two UIDs with one Message-ID). */
  seenTwice: string[];
}

/** Every message sent, looked for in its recipient's INBOX on the server's disk. */
export function checkDeliveries(lab: ClassLab, reports: AgentReport[]): Deliveries {
  const inboxes = new Map<string, Map<string, number>>();
  const countIn = (user: string) => {
    let counts = inboxes.get(user);
    if (!counts) {
      counts = new Map();
      for (const id of inboxMessageIds(lab.dataDir, user)) counts.set(id, (counts.get(id) ?? 0) + 1);
      inboxes.set(user, counts);
    }
    return counts;
  };
  const seen = new Set(reports.flatMap((r) => r.inboxSeen));
  const byIdle = new Set(reports.flatMap((r) => r.existsSeen));
  const seenTwice = reports.flatMap((r) => r.inboxSeen.filter((id, i) => r.inboxSeen.indexOf(id) !== i));
  const result: Deliveries = {
    sent: 0,
    exactlyOnce: 0,
    missing: [],
    duplicated: [],
    seenByClient: 0,
    seenByIdle: 0,
    seenTwice,
  };
  for (const { messageId, to } of reports.flatMap((r) => r.sent)) {
    result.sent += 1;
    const n = countIn(to).get(messageId) ?? 0;
    if (n === 1) result.exactlyOnce += 1;
    else if (n === 0) result.missing.push(`${messageId} to ${to}`);
    else result.duplicated.push(`${messageId} to ${to} (${n} times)`);
    if (seen.has(messageId)) result.seenByClient += 1;
    if (byIdle.has(messageId)) result.seenByIdle += 1;
  }
  return result;
}

/** Latencies of every agent, per operation, merged. */
export function mergeLatencies(reports: AgentReport[]): Map<string, number[]> {
  const all = new Map<string, number[]>();
  for (const r of reports) {
    for (const [op, values] of Object.entries(r.latencies)) all.set(op, [...(all.get(op) ?? []), ...values]);
  }
  return all;
}

/** The q-quantile (0 … 1) of values, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
