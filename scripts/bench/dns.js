#!/usr/bin/env node
// The class DNS (apps/dns) under a class's load: a zone of 30 labs, then MX and A queries over UDP
// from `--clients` sockets at once (each sends its next query when the last is answered, as a
// stub resolver does), for `--seconds`. Prints queries answered per second and the reply latency
// (p50, p99, max); a query unanswered in 2 s counts as lost. `npm run bench -- dns [--clients 32] [--seconds 5]`.
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ZoneRegistry } from '@portlab/dns';
import { tempLab, waitFor } from '@portlab/testkit';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '32' }, seconds: { type: 'string', default: '5' } },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const main = fileURLToPath(new URL('../../apps/dns/dist/main.js', import.meta.url));

const lab = await tempLab();
const registry = new ZoneRegistry(path.join(lab.dataDir, 'dns'));
for (let n = 1; n <= 30; n++) registry.add(`pc${String(n).padStart(2, '0')}`, `10.0.0.${n}`);
const app = fork(main, [], { env: lab.env, stdio: 'pipe' });
let output = '';
app.stdout.on('data', (d) => (output += d));
app.stderr.on('data', (d) => (output += d));
await waitFor(() => /zone .* on port/.test(output), { what: `the dns app to start:\n${output}` });

/** A query for `name` (RFC 1035 §4.1), type MX (15) or A (1), id `id`. */
function query(id, name, type) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

const port = lab.ports.dns;
const latencies = [];
let lost = 0;
const deadline = performance.now() + seconds * 1000;
async function client(index) {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let id = index << 8;
  while (performance.now() < deadline) {
    id = (id + 1) & 0xffff;
    const name = `pc${String((id % 30) + 1).padStart(2, '0')}.lab.test`;
    const sent = performance.now();
    const answered = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        resolve(false);
      }, 2000);
      const onMessage = (reply) => {
        if (reply.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(true);
      };
      socket.on('message', onMessage);
      socket.send(query(id, name, id % 2 ? 15 : 1), port, '127.0.0.1');
    });
    if (answered) latencies.push(performance.now() - sent);
    else lost++;
  }
  socket.close();
}

const began = performance.now();
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
const elapsed = (performance.now() - began) / 1000;
app.kill('SIGTERM');
await new Promise((resolve) => app.once('exit', resolve));
lab.cleanup();

latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
console.log(
  `class DNS, ${clients} UDP clients for ${elapsed.toFixed(1)} s (zone of 30 labs, MX and A queries):`,
);
console.log(`  ${Math.round(latencies.length / elapsed)} queries/s answered, ${lost} lost`);
console.log(
  `  reply latency: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms`,
);
