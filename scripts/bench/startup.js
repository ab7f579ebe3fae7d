#!/usr/bin/env node
// Start-up time of `portlab up` (after a build): from spawning the supervisor to its
// "all services listening" line, over several runs in a throw-away lab on free ports.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempLab } from '@portlab/testkit';

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const times = [];
const lab = await tempLab();
for (let i = 0; i < runs; i++) {
  const began = performance.now();
  const child = spawn(process.execPath, [bin, 'up'], { env: lab.env });
  let out = '';
  const ms = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (/all services listening/.test(out)) resolve(performance.now() - began);
      else if (/services listening in/.test(out)) reject(new Error(`not every service started:\n${out}`));
    });
    child.once('exit', () => reject(new Error(`portlab up exited early:\n${out}`)));
  });
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  times.push(ms);
  console.log(
    `run ${i + 1}: ${(ms / 1000).toFixed(3)} s${i === 0 ? ' (first start: makes users.json and the certificate)' : ''}`,
  );
}
lab.cleanup();
const warm = times.slice(1).sort((a, b) => a - b);
if (warm.length)
  console.log(
    `median of warm runs: ${(warm[Math.floor(warm.length / 2)] / 1000).toFixed(3)} s (target: under 3 s)`,
  );
