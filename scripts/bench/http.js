// The HTTP benchmark (issue 20): `npm run bench -- http` (or `node scripts/bench/http.js` after a build).
// The reference's own workload, `wrk -t2 -c64 -d10s` (plus --latency, for the p99), on:
//   1. a 1 KiB file, /~alice/index.html: nginx (when /usr/sbin/nginx is installed) and portlab's web app
//      alternately, nginx, portlab, nginx, portlab, ... (a shared machine's load drifts: a ratio taken
//      side by side is what counts), then the ratio of the medians;
//   2. the home page, /, of portlab's web app (nginx has no such page).
// Everything runs on loopback ports picked free, with its own temp data dir and, for nginx, its own
// config, pid file and logs in a temp dir; nothing of the system's own services is touched, and
// nothing is installed (the apt-get line is printed when a tool is missing).
//   node scripts/bench/http.js [--rounds N] [--only file|home] [--cpu-prof DIR] [--nginx-workers N|auto]
//   [--ceiling] [path/to/web/dist/main.js]
// --ceiling also measures a bare `node:http` server answering the same 1 KiB and header fields with
// nothing else (no routing, no stat, no transcript): the most this Node can do on this workload.
// The last argument measures another build of the web app (before/after a change).
import { execFile, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, UserStore } from '@portlab/config';
import { freePorts, tempLab, waitForHttp } from '@portlab/testkit';

const WRK = '/usr/bin/wrk';
const NGINX = '/usr/sbin/nginx';
/** Exactly the issue's parameters; --latency adds the percentiles wrk prints (the p99). */
const WRK_ARGS = ['-t2', '-c64', '-d10s', '--latency'];

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const rounds = Number(option('--rounds', '3'));
const only = option('--only', 'all');
/** nginx's worker_processes: `auto` (a worker per core) as Debian's nginx.conf; 1 to match one Node process. */
const nginxWorkers = option('--nginx-workers', 'auto');
/** A folder for a CPU profile of the web app (node --cpu-prof), written when it stops. */
const profile = option('--cpu-prof', null);
const ceilingAt = args.indexOf('--ceiling');
const ceiling = ceilingAt >= 0;
if (ceiling) args.splice(ceilingAt, 1);
const main = args[0] ?? fileURLToPath(new URL('../../apps/web/dist/main.js', import.meta.url));

if (!existsSync(WRK)) {
  console.log('wrk is not installed; on Debian/Ubuntu: sudo apt-get install wrk');
  process.exit(0);
}

/** Runs wrk on `url`; resolves with req/s and the p99 latency in ms, from wrk's own report. */
function wrk(url) {
  return new Promise((resolve, reject) => {
    execFile(WRK, [...WRK_ARGS, url], { maxBuffer: 1024 * 1024 }, (err, out) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const requests = /(\d+) requests in/.exec(out);
      const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
      const errors = /Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*/.exec(out);
      if (!rps || !p99) return reject(new Error(`unexpected wrk output:\n${out}`));
      const scale = { us: 1e-3, ms: 1, s: 1e3 }[p99[2]];
      resolve({
        rps: Number(rps[1]),
        requests: Number(requests?.[1] ?? Number.NaN),
        p99: Number(p99[1]) * scale,
        errors: errors?.[0] ?? '',
      });
    });
  });
}

const load = () => loadavg()[0].toFixed(2);
const median = (values) => {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const fmt = (r) => `${Math.round(r.rps).toLocaleString('en-US')} req/s, p99 ${r.p99.toFixed(2)} ms`;
/** The medians of a series of runs: req/s, p99 and CPU per request. */
const medians = (runs) => ({
  rps: median(runs.map((r) => r.rps)),
  p99: median(runs.map((r) => r.p99)),
  cpuUs: median(runs.map((r) => r.cpuUs)),
});
const cpuText = (r) => (Number.isNaN(r.cpuUs) ? '' : `, CPU ${r.cpuUs.toFixed(0)} µs/request`);

/**
 * CPU time used so far (user + system, in ms) by the processes `pids()` names, from /proc/PID/stat
 * (fields 14 and 15, in clock ticks of 10 ms). Divided by the requests of a run, it is a cost per
 * request that the machine's load does not change, where req/s depends on the CPU share one gets.
 */
function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids()) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return Number.NaN; // not Linux, or the process is gone
    }
  }
  return ticks * 10;
}

/** nginx's workers: the children of its master process. */
const childrenOf = (pid) => () => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
};

/**
 * One wrk run, printed with the load average it ran under (1-minute, read before the run) and the
 * server's CPU time per request (`pids`: its processes).
 */
async function measure(label, url, pids) {
  const before = load();
  const cpuBefore = cpuMs(pids);
  const result = await wrk(url);
  result.cpuUs = ((cpuMs(pids) - cpuBefore) * 1000) / result.requests;
  const cpu = Number.isNaN(result.cpuUs) ? '' : `  CPU ${result.cpuUs.toFixed(0)} µs/request`;
  console.log(
    `  ${label.padEnd(8)} ${fmt(result).padEnd(34)} load ${before}${cpu}${result.errors ? `  (${result.errors})` : ''}`,
  );
  return result;
}

/** A private nginx: its own config, pid and logs in `dir`, in the foreground, on 127.0.0.1:`port`. */
async function startNginx(dir, port, publicHtml) {
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  // As Debian's nginx.conf does: a worker per core, the access log on (portlab writes its transcript
  // for every request too), sendfile. The temp paths point into `dir`: nginx must never write to /var.
  // Run as root, its workers would be `nobody`, who cannot read the temp lab (mode 0700): they run
  // as the user running the bench instead.
  writeFileSync(
    conf,
    `daemon off;
master_process on;
${process.getuid?.() === 0 ? `user ${userInfo().username};` : ''}
worker_processes ${nginxWorkers};
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
events { worker_connections 1024; }
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  sendfile on;
  tcp_nopush on;
  types { text/html html; }
  server {
    listen 127.0.0.1:${port};
    location /~alice/ { alias ${publicHtml}/; }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir, '-c', conf, '-e', `${dir}/logs/error.log`], { stdio: 'inherit' });
  await waitForHttp(`http://127.0.0.1:${port}/~alice/index.html`, 'nginx');
}

/**
 * The ceiling: node:http alone, answering `body` with the header fields portlab sends for it, in a
 * child process of this same Node (its CPU time counted as portlab's is).
 */
async function startBare(port, body, headers) {
  const code = `const body = Buffer.from(${JSON.stringify(body.toString('base64'))}, 'base64');
const headers = ${JSON.stringify(headers)};
const server = require('node:http').createServer((req, res) => { res.writeHead(200, headers); res.end(body); });
server.keepAliveTimeout = 72000;
server.listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  await waitForHttp(`http://127.0.0.1:${port}/`, 'bare node:http');
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const lab = await tempLab();
let web;
let nginx;
let bare;
try {
  const config = loadConfig({ file: lab.configFile, env: {} });
  await new UserStore(config.paths.users).ensure();
  const publicHtml = path.join(config.paths.files, 'alice', 'public_html');
  mkdirSync(publicHtml, { recursive: true });
  // 1 KiB of HTML, as a student's first page.
  const page = `<!doctype html>\n<title>Alice</title>\n<h1>Alice's page</h1>\n<p>${'Hello from the lab. '.repeat(60)}`;
  writeFileSync(path.join(publicHtml, 'index.html'), `${page.slice(0, 1023)}\n`);

  web = fork(main, [], {
    env: lab.env,
    stdio: 'inherit',
    ...(profile ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] } : {}),
  });
  await new Promise((resolve, reject) => {
    web.on('message', (m) => m.type === 'ready' && resolve());
    web.once('exit', (code) => reject(new Error(`the web app exited (${code})`)));
  });
  const base = `http://127.0.0.1:${lab.ports.http}`;
  const body = await (await fetch(`${base}/~alice/index.html`)).text();
  if (body !== readFileSync(path.join(publicHtml, 'index.html'), 'utf8'))
    throw new Error('wrong page served');
  console.log(`node ${process.version}; web app ${main}`);
  console.log(
    `wrk ${WRK_ARGS.join(' ')}, ${rounds} rounds; load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  if (only !== 'home') {
    let ref = null;
    if (existsSync(NGINX)) {
      const [port] = await freePorts(1);
      await startNginx(path.join(lab.dir, 'nginx'), port, publicHtml);
      ref = `http://127.0.0.1:${port}/~alice/index.html`;
    } else {
      console.log('nginx is not installed (for the reference figure: sudo apt-get install nginx-light)');
    }
    console.log('\n1 KiB file, /~alice/index.html');
    const ours = [];
    const theirs = [];
    for (let i = 0; i < rounds; i++) {
      if (ref) theirs.push(await measure('nginx', ref, childrenOf(nginx.pid)));
      ours.push(await measure('portlab', `${base}/~alice/index.html`, () => [web.pid]));
    }
    const o = medians(ours);
    console.log(`  median portlab: ${fmt(o)}${cpuText(o)}`);
    if (ceiling) {
      const answer = await fetch(`${base}/~alice/index.html`);
      // Node adds Date, Connection and Keep-Alive itself, as it does for portlab.
      const headers = [...answer.headers]
        .filter(([name]) => !/^(date|connection|keep-alive)$/.test(name))
        .flat();
      const [port] = await freePorts(1);
      bare = await startBare(port, Buffer.from(await answer.arrayBuffer()), headers);
      const c = medians([await measure('node:http', `http://127.0.0.1:${port}/`, () => [bare.pid])]);
      console.log(`  ceiling, bare node:http with the same answer: ${fmt(c)}${cpuText(c)}`);
    }
    if (ref) {
      const t = medians(theirs);
      console.log(`  median nginx:   ${fmt(t)}${cpuText(t)}`);
      console.log(`  ratio portlab/nginx: ${(o.rps / t.rps).toFixed(2)}x (goal ≥ 0.4x)`);
      if (!Number.isNaN(o.cpuUs / t.cpuUs))
        console.log(`  CPU per request, portlab/nginx: ${(o.cpuUs / t.cpuUs).toFixed(1)}x`);
    }
  }

  if (only !== 'file') {
    console.log('\nhome page, /');
    const ours = [];
    for (let i = 0; i < rounds; i++) ours.push(await measure('portlab', `${base}/`, () => [web.pid]));
    const o = medians(ours);
    console.log(`  median portlab: ${fmt(o)}${cpuText(o)} (goal ≥ 20,000 req/s)`);
  }
} finally {
  await stop(nginx);
  await stop(bare);
  await stop(web);
  lab.cleanup();
}
