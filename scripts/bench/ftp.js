// The FTP benchmark (issues 5 and 20): `npm run bench -- ftp [--rounds=N] [--rows=stor,retr,parallel]
// [--only=portlab|vsftpd] [--profile=DIR] [--vsftpd=lab]`
// after a build, or `node scripts/bench/ftp.js [other/dist/main.js]` to measure another build of the
// files app (before/after). curl is the client, as for the reference figures.
//   1. STOR of a 1 GiB file over loopback, in MB/s (1 MB = 10^6 bytes);
//   2. RETR of that file to /dev/null, in MB/s;
//   3. 50 parallel RETR of a 10 MB file: total time and failures.
// Each time covers the whole curl session (connect, login, transfer).
//
// When vsftpd is installed (Debian's package: /usr/sbin/vsftpd) the bench also starts a private one
// as its own child process: a config of its own in a temp dir, listen=YES on a free loopback port,
// anonymous access rooted in that temp dir, its own passive port range; the system's vsftpd (its
// /etc config, its service) is never touched. Each workload then runs vsftpd, portlab, vsftpd,
// portlab... (--rounds times each, 3 by default) and the bench prints both and the ratio: on a
// shared machine a ratio measured side by side is what counts. Both servers read the same file
// (hard links to one source), so both RETRs find it in the page cache alike.
//
// --vsftpd=lab (run as root): vsftpd as a lab's would run, for comparison only: started as root, it
// chroots each session into its folder, runs it as an unprivileged user in separate processes, in
// new namespaces and under a seccomp filter (Debian's defaults). Still anonymous: a local account
// needs a system user and PAM, that is /etc, which the bench never touches.
import { execFile, fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, tempLab } from '@portlab/testkit';

const options = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => a.slice(2).split('=')),
);
const main =
  process.argv.slice(2).find((a) => !a.startsWith('--')) ??
  fileURLToPath(new URL('../../apps/files/dist/main.js', import.meta.url));
const ROUNDS = Number(options.rounds ?? 3);
/** --rows=retr (or stor, parallel, comma-separated): only those workloads, e.g. to profile one. */
const ROWS = (options.rows ?? 'stor,retr,parallel').split(',');
const GIB = 1024 ** 3;
const PARALLEL = 50;
const TEN_MB = 10_000_000;
const VSFTPD = '/usr/sbin/vsftpd';
/** --vsftpd=lab: vsftpd with its own isolation, as root (see the top of this file). */
const LAB_VSFTPD = options.vsftpd === 'lab';
if (LAB_VSFTPD && process.getuid?.() !== 0)
  throw new Error('--vsftpd=lab starts vsftpd as root: run the bench as root');

function curl(args) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    execFile('curl', ['-sS', ...args], { maxBuffer: 1024 * 1024 }, (err, _out, stderr) => {
      resolve({
        ok: !err,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        error: String(stderr).trim(),
      });
    });
  });
}

/** Writes `bytes` of a repeating random-looking pattern, 1 MiB at a time, and flushes it. */
function makeFile(file, bytes) {
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = openSync(file, 'w');
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, block, 0, Math.min(block.length, bytes - written));
  closeSync(fd);
  flush(file);
}

/**
 * Writes a file just made out to disk (fsync) before a measurement: otherwise the kernel writes it
 * back while the next transfer is timed, and the figure says more about the disk than about the
 * server (before issue 5 the server measured 340-370 MB/s for the STOR right after making its
 * source, 590-1,160 MB/s with the source flushed).
 */
function flush(file) {
  const fd = openSync(file, 'r+');
  fsyncSync(fd);
  closeSync(fd);
}

function sha256(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** The portlab files app, forked from `main` on free ports with a temp data dir. */
async function startPortlab() {
  const [from] = await freePorts(1);
  const first = Math.min(from, 65000 - 100);
  // 100 data ports as in the lab; a quota large enough for the 1 GiB file twice and its link.
  const lab = await tempLab({
    files: {
      passivePorts: { from: first, to: first + 99 },
      quotaBytes: 4 * GIB,
      maxConnectionsPerAddress: 100,
    },
  });
  // --profile=DIR: the files app writes a V8 processor profile there when it stops (node --cpu-prof).
  const execArgv = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
  const app = fork(main, [], { env: lab.env, stdio: 'inherit', execArgv });
  await new Promise((resolve, reject) => {
    app.on('message', (m) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the files app exited (${code})`)));
  });
  const root = path.join(lab.dataDir, 'files', 'alice');
  mkdirSync(root, { recursive: true });
  return {
    name: 'portlab',
    url: `ftp://alice:wonderland@127.0.0.1:${lab.ports.ftp}`,
    root,
    pid: app.pid,
    about: `files app (${path.relative(process.cwd(), main)}) on 127.0.0.1:${lab.ports.ftp}, data ports ${first}-${first + 99}`,
    async stop() {
      app.kill('SIGTERM');
      if (app.exitCode === null) await new Promise((resolve) => app.once('exit', resolve));
      lab.cleanup();
    },
  };
}

/**
 * A private vsftpd: its own config in a temp dir (never /etc/vsftpd.conf), in the foreground as our
 * child (background=NO), as the user running the bench (run_as_launching_user), anonymous only,
 * rooted in the temp dir, uploads allowed there. No logs, no sandbox to set up: a measuring copy.
 */
async function startVsftpd(dir) {
  const [port, pasv] = await freePorts(2);
  const from = Math.min(pasv, 65000 - 100);
  const root = path.join(dir, 'root');
  const pub = path.join(root, 'pub');
  mkdirSync(pub, { recursive: true });
  // Writable by all whatever the umask: in lab mode the session runs as the unprivileged ftp user.
  chmodSync(pub, 0o777);
  mkdirSync(path.join(dir, 'empty'));
  const config = path.join(dir, 'vsftpd.conf');
  writeFileSync(
    config,
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      ...(LAB_VSFTPD
        ? []
        : ['run_as_launching_user=YES', 'seccomp_sandbox=NO', 'isolate=NO', 'isolate_network=NO']),
      'anonymous_enable=YES',
      'no_anon_password=YES',
      `anon_root=${root}`,
      'local_enable=NO',
      'write_enable=YES',
      'anon_upload_enable=YES',
      'anon_other_write_enable=YES',
      'anon_umask=022',
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${from}`,
      `pasv_max_port=${from + 99}`,
      'connect_from_port_20=NO',
      'xferlog_enable=NO',
      `vsftpd_log_file=${path.join(dir, 'vsftpd.log')}`,
      'max_clients=200',
      'max_per_ip=200',
      `secure_chroot_dir=${path.join(dir, 'empty')}`,
      '',
    ].join('\n'),
  );
  const child = spawn(VSFTPD, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  // Ready once the control port answers its 220.
  for (let tries = 0; ; tries++) {
    const probe = await curl(['--max-time', '2', '-l', `ftp://127.0.0.1:${port}/`]);
    if (probe.ok) break;
    if (child.exitCode !== null || tries > 50)
      throw new Error(`vsftpd did not start: ${stderr || probe.error}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'vsftpd',
    url: `ftp://127.0.0.1:${port}/pub`,
    root: pub,
    pid: child.pid,
    about: `${VSFTPD} (private${LAB_VSFTPD ? ', lab mode: root, chroot, privilege separation' : ''}, config ${config}) on 127.0.0.1:${port}, data ports ${from}-${from + 99}`,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const mbps = (bytes, seconds) => bytes / 1e6 / seconds;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/**
 * Processor time (user + system, seconds) used so far by a process and its children it has waited
 * for (vsftpd runs each session in a child process), from /proc (proc(5): utime..cstime).
 */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
  } catch {
    return Number.NaN;
  }
}

const work = path.join('/tmp', `portlab-ftp-bench-${process.pid}`);
mkdirSync(work);
const servers = [];
try {
  const wanted = options.only ? [options.only] : ['vsftpd', 'portlab'];
  if (wanted.includes('vsftpd')) {
    if (existsSync(VSFTPD)) servers.push(await startVsftpd(path.join(work, 'vsftpd')));
    else
      console.log(
        `vsftpd is not installed: portlab alone. For the reference figures: sudo apt-get install vsftpd\n` +
          '  (on Debian that also starts a system vsftpd on port 21: sudo systemctl disable --now vsftpd)',
      );
  }
  if (wanted.includes('portlab')) servers.push(await startPortlab());
  for (const s of servers) console.log(`${s.name}: ${s.about}`);

  const big = path.join(work, 'big.bin');
  makeFile(big, GIB);
  const ten = path.join(work, 'ten.bin');
  makeFile(ten, TEN_MB);
  // RETR reads the same bytes from both servers: hard links to the sources.
  for (const s of servers) {
    linkSync(big, path.join(s.root, 'big.bin'));
    linkSync(ten, path.join(s.root, 'ten.bin'));
  }
  console.log(`load average before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const secret = (url) => url.replace(/:[^:@/]*@/, ':***@');

  /** Runs `measure` ROUNDS times per server, alternating; prints each figure, then medians and ratio. */
  async function row(title, unit, measure, better) {
    const figures = new Map(servers.map((s) => [s.name, []]));
    const cpu = new Map(servers.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) {
        const before = cpuSeconds(s.pid);
        const figure = await measure(s);
        const used = cpuSeconds(s.pid) - before;
        figures.get(s.name).push(figure);
        cpu.get(s.name).push(used);
        console.log(
          `  ${title}, ${s.name}: ${figure.toFixed(unit === 's' ? 2 : 0)} ${unit}` +
            (Number.isNaN(used) ? '' : ` (server processor ${used.toFixed(2)} s)`),
        );
      }
    }
    const m = Object.fromEntries([...figures].map(([name, xs]) => [name, median(xs)]));
    const line = servers.map((s) => `${s.name} ${m[s.name].toFixed(unit === 's' ? 2 : 0)} ${unit}`);
    const ratio =
      m.vsftpd && m.portlab
        ? `   portlab/vsftpd ${(better === 'higher' ? m.portlab / m.vsftpd : m.vsftpd / m.portlab).toFixed(2)}x`
        : '';
    console.log(`${title} (median of ${ROUNDS}): ${line.join(', ')}${ratio}`);
  }

  if (ROWS.includes('stor')) await storRow();
  if (ROWS.includes('retr')) await retrRow();
  if (ROWS.includes('parallel')) await parallelRow();
  console.log(`load average after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const s of servers) console.log(`${s.name} URL: ${secret(s.url)}`);

  async function storRow() {
    await row(
      'STOR 1 GiB',
      'MB/s',
      async (s) => {
        const target = path.join(s.root, 'stored.bin');
        rmSync(target, { force: true });
        const r = await curl(['-T', big, `${s.url}/stored.bin`]);
        if (!r.ok) throw new Error(`STOR to ${s.name} failed: ${r.error}`);
        flush(target); // Written out before the next timing (see flush).
        return mbps(GIB, r.seconds);
      },
      'higher',
    );
    for (const s of servers) {
      const same = (await sha256(big)) === (await sha256(path.join(s.root, 'stored.bin')));
      console.log(`  ${s.name}: stored file identical to the one sent: ${same ? 'yes' : 'NO'}`);
      rmSync(path.join(s.root, 'stored.bin'), { force: true });
    }
  }

  async function retrRow() {
    // To /dev/null: the server's sending rate, not this disk's.
    await row(
      'RETR 1 GiB',
      'MB/s',
      async (s) => {
        const r = await curl(['-o', '/dev/null', `${s.url}/big.bin`]);
        if (!r.ok) throw new Error(`RETR from ${s.name} failed: ${r.error}`);
        return mbps(GIB, r.seconds);
      },
      'higher',
    );
  }

  async function parallelRow() {
    await row(
      `${PARALLEL} parallel RETR of 10 MB`,
      's',
      async (s) => {
        const out = path.join(work, `ten-${s.name}`);
        mkdirSync(out, { recursive: true });
        const started = process.hrtime.bigint();
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            curl(['-o', path.join(out, `${i}.bin`), `${s.url}/ten.bin`]),
          ),
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const failed = results.filter(
          (r, i) => !r.ok || statSync(path.join(out, `${i}.bin`), { throwIfNoEntry: false })?.size !== TEN_MB,
        );
        if (failed.length > 0) {
          console.log(`  ${s.name}: ${failed.length} of ${PARALLEL} failed, e.g. ${failed[0].error}`);
        }
        rmSync(out, { recursive: true });
        return seconds;
      },
      'lower',
    );
  }
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
