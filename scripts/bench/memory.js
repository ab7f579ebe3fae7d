#!/usr/bin/env node
// Idle memory of a whole lab (issue #20's memory row): starts `portlab up` in a throw-away lab on
// free ports (as startup.js does), lets it settle, then prints for the supervisor and each app
// process its PSS and RSS (/proc/PID/smaps_rollup: PSS shares each page among the processes that
// map it, so the sum is what the lab costs the machine) split into anonymous memory (heaps, malloc)
// and file-backed memory (the node binary's code, shared by every process), and what V8 says it
// holds: the heap used against the heap reserved, the compiled code, the bytecode.
// Usage: npm run bench -- memory [settle seconds, default 20] [runs, default 1] [--gc] [--first] [--maps]
// --first: measure the lab's first start (which also makes users.json, hashing the demo passwords,
// and the certificate); by default the lab is started once before, as a lab runs after its first day.
// --gc: each process runs a full garbage collection before V8 is asked, and PSS is read again
// after it (the "after GC" figures): how much of the idle heap is garbage start-up left behind.
// --maps: each process's PSS by kind of mapping (/proc/PID/smaps), see `kinds` below.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempLab } from '@portlab/testkit';

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const probe = fileURLToPath(new URL('../bench-lib/memory-probe.cjs', import.meta.url));
const gc = process.argv.includes('--gc');
const first = process.argv.includes('--first');
const maps = process.argv.includes('--maps');
const [settleArg, runsArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const settle = Number(settleArg ?? 20);
const runs = Number(runsArg ?? 1);
/** The apps of the goal (< 120 MB PSS with the supervisor): wave 1. */
const WAVE1 = ['supervisor', 'web', 'mail', 'files', 'peer'];
const MB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rollup(pid) {
  const kb = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) kb[m[1]] = Number(m[2]) * 1024;
  }
  return kb;
}

/**
 * A process's PSS by kind of mapping, from /proc/PID/smaps (Linux x86-64, glibc):
 * - file: the node binary and libraries (shared by every Node process, so PSS divides them);
 * - v8: V8's heap pages (anonymous, at the random addresses V8 picks below the libraries) and its
 *   code range (rwx);
 * - brk: glibc malloc's main arena ([heap]); arenas: its per-thread arenas, each in a 64 MB
 *   reservation aligned to 64 MB (the rest of it not readable, ---p);
 * - stacks, and other anonymous memory (in Node 24, about 1 MB is abseil's mutex deadlock graph,
 *   allocated at start).
 */
function kinds(pid) {
  const out = { file: 0, v8: 0, brk: 0, arenas: 0, stacks: 0, other: 0 };
  const list = [];
  let cur;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      cur = { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perm: m[3], name: m[4], pss: 0 };
      list.push(cur);
    }
    const k = /^Pss:\s+(\d+) kB/.exec(line);
    if (k && cur) cur.pss = Number(k[1]) * 1024;
  }
  const ARENA = 64n << 20n;
  list.forEach((m, i) => {
    const next = list[i + 1];
    const prev = list[i - 1];
    let kind = 'other';
    if (m.name.startsWith('/')) kind = 'file';
    else if (m.name === '[heap]') kind = 'brk';
    else if (m.name === '[stack]') kind = 'stacks';
    else if (m.name.startsWith('[')) kind = 'other';
    else if (
      m.perm === 'rw-p' &&
      m.start % ARENA === 0n &&
      (m.end - m.start === ARENA ||
        (next?.perm === '---p' && next.start === m.end && next.end - m.start === ARENA))
    )
      kind = 'arenas';
    else if (m.start < 0x7f0000000000n || m.perm === 'rwxp') kind = 'v8';
    else if (prev?.perm === '---p' && prev.end === m.start && m.end - m.start >= 512n * 1024n)
      kind = 'stacks';
    out[kind] += m.pss;
  });
  return out;
}

function childrenOf(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function appName(pid) {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const main = argv.find((a) => /apps\/[^/]+\/dist\/main\.js$/.test(a));
  return main ? main.split('/').at(-3) : path.basename(argv[1] ?? argv[0]);
}

/** `portlab up` in `lab` until every service listens; stopped by SIGINT. */
async function up(env) {
  const child = spawn(process.execPath, [bin, 'up'], { env });
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (/all services listening/.test(out)) resolve();
      else if (/services listening in/.test(out)) reject(new Error(`not every service started:\n${out}`));
    });
    child.once('exit', () => reject(new Error(`portlab up exited early:\n${out}`)));
  });
  return child;
}

async function down(child) {
  child.kill('SIGINT');
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
}

async function once() {
  const lab = await tempLab();
  if (!first) await down(await up(lab.env));
  const probeDir = mkdtempSync(path.join(tmpdir(), 'portlab-memprobe-'));
  const env = {
    ...lab.env,
    PORTLAB_MEMORY_PROBE: probeDir,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}${gc ? ' --expose-gc' : ''}`.trim(),
    ...(gc ? { PORTLAB_MEMORY_PROBE_GC: '1' } : {}),
  };
  const child = await up(env);
  try {
    // Idle: what a lab costs while nobody uses it, once start-up's garbage had its chance to go.
    await sleep(settle * 1000);
    const pids = [child.pid, ...childrenOf(child.pid)];
    const rows = pids.map((pid) => ({
      pid,
      name: pid === child.pid ? 'supervisor' : appName(pid),
      ...rollup(pid),
    }));
    if (maps) for (const row of rows) row.kinds = kinds(row.pid);
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    await sleep(1000);
    for (const row of rows) row.after = gc ? rollup(row.pid) : undefined;
    for (const row of rows) {
      try {
        row.v8 = JSON.parse(readFileSync(path.join(probeDir, `${row.pid}.json`), 'utf8'));
      } catch {
        row.v8 = undefined;
      }
    }
    return rows;
  } finally {
    await down(child);
    rmSync(probeDir, { recursive: true, force: true });
    lab.cleanup();
  }
}

const f = (bytes) => (bytes / MB).toFixed(1).padStart(6);
console.log(
  `node ${process.version}, settle ${settle} s, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
);
for (let run = 1; run <= runs; run++) {
  const rows = await once();
  console.log(
    `\nrun ${run}         ${'PSS'.padStart(6)} ${'anon'.padStart(6)} ${'file'.padStart(6)} ${'RSS'.padStart(6)} | ${'heap used/total'.padStart(15)} ${'code'.padStart(5)} ${'bytecode'.padStart(8)} ${'external'.padStart(8)}  (MB)`,
  );
  const sum = (list, key) => list.reduce((s, r) => s + (r[key] ?? 0), 0);
  for (const r of rows) {
    const v = r.v8;
    const heap = v ? `${f(v.heap.used)}/${f(v.heap.total)}`.padStart(15) : '?'.padStart(15);
    const code = v ? f(v.spaces.code_space?.used ?? 0) : '     ?';
    const bytecode = v ? f(v.code.bytecode_and_metadata_size).padStart(8) : '       ?';
    const external = v ? f(v.memory.external).padStart(8) : '       ?';
    console.log(
      `${r.name.padEnd(12)} ${f(r.Pss)} ${f(r.Pss_Anon)} ${f(r.Pss_File)} ${f(r.Rss)} | ${heap} ${code} ${bytecode} ${external}${r.after ? `  after GC: PSS ${f(r.after.Pss)}` : ''}`,
    );
  }
  if (maps) {
    const names = Object.keys(rows[0].kinds);
    console.log(`PSS by mapping  ${names.map((n) => n.padStart(6)).join(' ')}  (MB)`);
    for (const r of rows) console.log(`${r.name.padEnd(15)} ${names.map((n) => f(r.kinds[n])).join(' ')}`);
  }
  const wave1 = rows.filter((r) => WAVE1.includes(r.name));
  console.log(
    `wave 1 + supervisor (${wave1.length} processes): PSS ${f(sum(wave1, 'Pss'))} MB, RSS ${f(sum(wave1, 'Rss'))} MB (goal: PSS < 120 MB)`,
  );
  if (gc)
    console.log(
      `wave 1 + supervisor after a full GC: PSS ${f(wave1.reduce((s, r) => s + r.after.Pss, 0))} MB`,
    );
  console.log(
    `every process (${rows.length}):              PSS ${f(sum(rows, 'Pss'))} MB, RSS ${f(sum(rows, 'Rss'))} MB`,
  );
}
