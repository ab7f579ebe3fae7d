// The FTP benchmark (issue 5): `node scripts/bench/ftp.js` after a build (`npm run bench -- ftp`).
// Starts its own files app on free ports with a temp data dir, measures with curl as the client
// (as for the vsftpd reference figure), prints the figures, and stops everything it started.
//   1. STOR and RETR of a 1 GiB file over loopback, in MB/s (1 MB = 10^6 bytes); each time covers the
//      whole curl session (connect, login, transfer).
//   2. 50 parallel downloads of a 10 MB file: total time and failures.
// `node scripts/bench/ftp.js other/dist/main.js` measures another build of the files app (before/after).
import { execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempLab } from '@portlab/testkit';

const main = process.argv[2] ?? fileURLToPath(new URL('../../apps/files/dist/main.js', import.meta.url));
const GIB = 1024 ** 3;
const PARALLEL = 50;

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

const from = 20000 + Math.floor(Math.random() * 11000);
// 100 data ports as in the lab; a quota large enough for the 1 GiB file twice.
const lab = await tempLab({
  files: { passivePorts: { from, to: from + 99 }, quotaBytes: 4 * GIB, maxConnectionsPerAddress: 100 },
});
const app = fork(main, [], { env: lab.env, stdio: 'inherit' });
try {
  await new Promise((resolve, reject) => {
    app.on('message', (m) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the files app exited (${code})`)));
  });
  const work = path.join(lab.dir, 'bench');
  mkdirSync(work);
  const base = `ftp://alice:wonderland@127.0.0.1:${lab.ports.ftp}`;
  const big = path.join(work, 'big.bin');
  makeFile(big, GIB);
  console.log(
    `files app on 127.0.0.1:${lab.ports.ftp}, data ports ${from}-${from + 99}, data dir ${lab.dataDir}`,
  );

  const stor = await curl(['-T', big, `${base}/big.bin`]);
  if (!stor.ok) throw new Error(`STOR failed: ${stor.error}`);
  console.log(
    `STOR 1 GiB: ${(GIB / 1e6 / stor.seconds).toFixed(0)} MB/s (${stor.seconds.toFixed(2)} s)   curl -T big.bin ${base.replace(/:[^:@]*@/, ':***@')}/big.bin`,
  );

  // The uploaded file is flushed first (see flush). To /dev/null: the server's sending rate, not
  // this disk's (the vsftpd figure is measured so too).
  const stored = path.join(lab.dataDir, 'files', 'alice', 'big.bin');
  flush(stored);
  const retr = await curl(['-o', '/dev/null', `${base}/big.bin`]);
  if (!retr.ok) throw new Error(`RETR failed: ${retr.error}`);
  console.log(
    `RETR 1 GiB: ${(GIB / 1e6 / retr.seconds).toFixed(0)} MB/s (${retr.seconds.toFixed(2)} s)   curl -o /dev/null ${base.replace(/:[^:@]*@/, ':***@')}/big.bin`,
  );
  console.log(
    `  stored file identical to the one sent: ${(await sha256(big)) === (await sha256(stored)) ? 'yes' : 'NO'}`,
  );

  const ten = path.join(lab.dataDir, 'files', 'alice', 'ten.bin');
  makeFile(ten, 10_000_000);
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      curl(['-o', path.join(work, `ten-${i}.bin`), `${base}/ten.bin`]),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = results.filter(
    (r, i) =>
      !r.ok || statSync(path.join(work, `ten-${i}.bin`), { throwIfNoEntry: false })?.size !== 10_000_000,
  );
  console.log(
    `${PARALLEL} parallel RETR of 10 MB: ${seconds.toFixed(2)} s in all, ${failed.length} failed (${((PARALLEL * 10) / seconds).toFixed(0)} MB/s together)`,
  );
  for (const f of failed.slice(0, 5)) console.log(`  failure: ${f.error}`);
} finally {
  app.kill('SIGTERM');
  if (app.exitCode === null) await new Promise((resolve) => app.once('exit', resolve));
  lab.cleanup();
}
