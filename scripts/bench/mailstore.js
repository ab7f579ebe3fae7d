// Mail store benchmark (`npm run bench -- mailstore [appends=1000] [prefill=10000] [--build=…]`, or `node scripts/bench/mailstore.js`
// after a build): the cost of APPEND inside @portlab/mailstore, without the IMAP layer.
//   1. one at a time, each followed by status() as IMAP's APPEND does (for APPENDUID): the rate in
//      windows, so a cost that grows with the folder shows as a falling rate;
//   2. 16 appends in flight at once (pipelined APPENDs, MULTIAPPEND): what group commit gains;
//   3. appendAll() of the same number in one call (MULTIAPPEND, RFC 3502), when the store has it.
// `prefill` messages are first put in the folder's cur/ (written directly, then one look gives them
// their UIDs), so the per-append cost on a large folder shows without appending them all first.
// Prints figures with the load average; asserts nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `--build=path/to/dist/index.js` runs the same figures on another build (a copy of main's, to compare).
const build = process.argv.find((a) => a.startsWith('--build='))?.slice('--build='.length);
const args = process.argv.slice(2).filter((a) => !a.startsWith('--build='));
const { MailStore } = await import(build ?? '@portlab/mailstore');

const APPENDS = Number(args[0]) || 1000;
const PREFILL = Number(args[1] ?? 10_000);
const IN_FLIGHT = 16;
const WINDOWS = 4;

function message(n) {
  const body = `Line ${n} of a benchmark message, with enough words to look like mail text.\r\n`.repeat(40);
  return Buffer.from(`From: a@example.org\r\nTo: bob@lab.test\r\nSubject: Append ${n}\r\n\r\n${body}`);
}

async function freshFolder(name) {
  const root = mkdtempSync(path.join(tmpdir(), 'portlab-bench-mailstore-'));
  const store = new MailStore(root);
  const folder = await (await store.mailbox('bob')).folder(name);
  if (PREFILL) {
    const bytes = message(0);
    const host = 'bench';
    for (let i = 0; i < PREFILL; i++)
      writeFileSync(
        path.join(folder.dir, 'cur', `1700000000.M${i}P1Q${i}.${host},S=${bytes.length}:2,S`),
        bytes,
      );
    await folder.status();
  }
  return { root, folder };
}

async function loadavg() {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/loadavg', 'utf8').catch(() => 'n/a')).split(' ').slice(0, 3).join(' ');
}

async function serial() {
  const { root, folder } = await freshFolder('INBOX');
  const rates = [];
  const per = Math.ceil(APPENDS / WINDOWS);
  let n = 0;
  const started = performance.now();
  for (let w = 0; w < WINDOWS; w++) {
    const t = performance.now();
    for (let i = 0; i < per && n < APPENDS; i++, n++) {
      await folder.append(message(n), { flags: ['\\Seen'] });
      await folder.status();
    }
    rates.push(Math.round(per / ((performance.now() - t) / 1000)));
  }
  const total = APPENDS / ((performance.now() - started) / 1000);
  rmSync(root, { recursive: true, force: true });
  return { total: Math.round(total), rates };
}

async function concurrent() {
  const { root, folder } = await freshFolder('INBOX');
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < APPENDS) {
        await folder.append(message(next++), { flags: ['\\Seen'] });
        await folder.status();
      }
    }),
  );
  const rate = APPENDS / ((performance.now() - started) / 1000);
  const messages = (await folder.status()).messages;
  rmSync(root, { recursive: true, force: true });
  return { rate: Math.round(rate), messages };
}

async function all() {
  const { root, folder } = await freshFolder('INBOX');
  if (typeof folder.appendAll !== 'function') return null;
  const started = performance.now();
  const batch = 100;
  for (let n = 0; n < APPENDS; n += batch)
    await folder.appendAll(
      Array.from({ length: Math.min(batch, APPENDS - n) }, (_, i) => ({
        message: message(n + i),
        flags: ['\\Seen'],
      })),
    );
  const rate = APPENDS / ((performance.now() - started) / 1000);
  rmSync(root, { recursive: true, force: true });
  return { rate: Math.round(rate) };
}

console.log(
  `mail store APPEND, ${APPENDS} messages of ~3 KB into a folder of ${PREFILL} (node ${process.version})`,
);
console.log(`  load average before: ${await loadavg()}`);
const s = await serial();
console.log(`  one at a time + status():   ${s.total} msg/s  (by quarter: ${s.rates.join(', ')})`);
const c = await concurrent();
console.log(`  ${IN_FLIGHT} in flight + status():     ${c.rate} msg/s  (${c.messages} messages after)`);
const a = await all();
console.log(a ? `  appendAll() by 100:         ${a.rate} msg/s` : '  appendAll(): not in this store');
console.log(`  load average after:  ${await loadavg()}`);
