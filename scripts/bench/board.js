// The class board's cost (issue 13): `npm run bench -- board [students]` after a build.
// Starts its own web, mail and files apps on free ports with a temp data dir, makes a class of 30
// students (by default), gives them some work (mail sent with AUTH and read, pages and quiz answers
// uploaded by FTP, 404s asked for), then prints:
//   1. how long one full round of checks takes (every student × every lab), as the web app does it
//      (a ClassBoard in this process, on the same data), three times;
//   2. the first round the running web app did when the teacher opened /api/class;
//   3. how many rounds the web app ran while nothing happened for 8 s (should be 0: the board's own
//      requests, lab 3's check fetching /~user/, must not make it check again).
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ensureLabCertificate, loadConfig, UserStore } from '@portlab/config';
import { tempLab } from '@portlab/testkit';
import { ClassBoard, EventHub } from '@portlab/web';
import { Client as FtpClient } from 'basic-ftp';
import nodemailer from 'nodemailer';

const STUDENTS = Number(process.argv[2] ?? 30);
const MAILS_EACH = 5;
const root = fileURLToPath(new URL('../../', import.meta.url));
const names = Array.from({ length: STUDENTS }, (_, i) => `e${String(i + 1).padStart(2, '0')}`);
const password = (name) => `${name}-Desk42`;

function startApp(lab, name) {
  const child = fork(path.join(root, 'apps', name, 'dist', 'main.js'), [], {
    env: lab.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (m) => m.type === 'ready' && resolve(child));
    child.once('exit', (code) => reject(new Error(`apps/${name} exited (${code})`)));
  });
}

const lab = await tempLab({ web: { loopbackIsTeacher: true } });
const apps = [];
try {
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure();
  for (const name of [...names, 'teacher'])
    await users.set(name, name === 'teacher' ? 'chalk-Board9' : password(name));
  const file = JSON.parse(readFileSync(users.file, 'utf8'));
  for (const u of file.users)
    if (u.name.startsWith('e') || u.name === 'teacher') u.role = u.name === 'teacher' ? 'teacher' : 'student';
  writeFileSync(users.file, `${JSON.stringify(file, null, 2)}\n`);
  await ensureLabCertificate(path.join(lab.dataDir, 'tls'), ['127.0.0.1']);
  apps.push(...(await Promise.all(['web', 'mail', 'files'].map((n) => startApp(lab, n)))));
  const base = `http://127.0.0.1:${lab.ports.http}`;

  // The work: each student mails the next ones (AUTH on submission), uploads a page and the quiz;
  // 5 students at a time (the lab's FTP allows 10 connections per address, 8 passive ports here).
  const started = Date.now();
  const work = async (name, i) => {
    const mail = nodemailer.createTransport({
      host: '127.0.0.1',
      port: lab.ports.submission,
      secure: false,
      ignoreTLS: true,
      auth: { user: name, pass: password(name) },
    });
    for (let k = 1; k <= MAILS_EACH; k++) {
      const to = names[(i + k) % names.length];
      await mail.sendMail({
        from: `${name}@lab.test`,
        to: `${to}@lab.test`,
        subject: `TP2 ${k}`,
        text: 'hello',
      });
    }
    mail.close();
    const ftp = new FtpClient();
    await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user: name, password: password(name) });
    await ftp.uploadFrom(Readable.from([Buffer.from('smtp = 25\nimap = 143\n')]), 'ports-quiz.txt');
    if (i % 2 === 0) {
      await ftp.ensureDir('/public_html');
      await ftp.uploadFrom(Readable.from([Buffer.from(`<title>${name}</title><h1>TP3</h1>`)]), 'index.html');
    }
    ftp.close();
    await fetch(`${base}/~${name}/nothing-here`);
  };
  for (let i = 0; i < names.length; i += 5)
    await Promise.all(names.slice(i, i + 5).map((n, k) => work(n, i + k)));
  console.log(
    `work: ${names.length} students, ${names.length * MAILS_EACH} messages, FTP uploads, in ${Date.now() - started} ms`,
  );
  const logDir = path.join(lab.dataDir, 'log');
  const logBytes = readdirSync(logDir).reduce((sum, f) => sum + statSync(path.join(logDir, f)).size, 0);
  console.log(`transcripts: ${(logBytes / 1024).toFixed(0)} KiB in ${logDir}`);

  // 1. Full rounds in this process, on the same data (as the web app runs them).
  const config = loadConfig({ file: lab.configFile, env: {} });
  for (const concurrency of [1, 2, 4]) {
    const times = [];
    for (let run = 0; run < 3; run++) {
      const hub = new EventHub(config.paths.log);
      const board = new ClassBoard(config, hub, users, { concurrency });
      await board.start();
      times.push(board.snapshot().recompute.full.ms);
      board.close();
      hub.close();
    }
    console.log(
      `full round, ${names.length} students × 5 labs, ${concurrency} at a time: ${times.join(', ')} ms`,
    );
  }

  // 2. and 3. The running web app.
  const first = await (await fetch(`${base}/api/class`)).json();
  const done = first.students.map((s) => Object.values(s.labs).reduce((n, l) => n + l.done, 0));
  console.log(
    `web app: first round ${first.recompute.full.ms} ms for ${first.recompute.full.students} students; items ✔ per student: ${done.join(' ')}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the work's last events go through
  const before = (await (await fetch(`${base}/api/class`)).json()).recompute.last.at;
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  const after = (await (await fetch(`${base}/api/class`)).json()).recompute.last;
  console.log(
    `web app idle for 8 s: ${after.at === before ? 'no round' : `a round ran (${after.students} students, ${after.ms} ms)`}`,
  );
} finally {
  for (const child of apps) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  lab.cleanup();
}
