#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// `npm run bench -- NAME`: runs scripts/bench/NAME.js, a script that prints figures (never a test).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME [args]\nbenchmarks: ${names.join(', ')}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, [`${dir}${name}.js`, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
