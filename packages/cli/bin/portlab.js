#!/usr/bin/env node
/**
 * The `portlab` command as npm and npx link it. This file is committed with mode 755 and never
 * built, because npm makes a bin executable only when it creates the link: a dist/bin.js rebuilt by
 * tsc or restored from turbo's cache comes back as 644, the old link still points at it, and every
 * `npx portlab` after that said "sh: 1: portlab: Permission denied". The command itself is dist/bin.js.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const command = new URL('../dist/bin.js', import.meta.url);
if (existsSync(command)) {
  await import(command.href);
} else {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  console.error(
    `portlab is not built yet (${fileURLToPath(command)} is missing).\n` +
      `Build it in ${repo} with 'npm run build', or 'npm start' to build and start the lab.`,
  );
  process.exitCode = 1;
}
