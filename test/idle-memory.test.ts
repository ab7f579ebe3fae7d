// Issue #20's memory row, what an idle lab holds (`npm run bench -- memory` measures it). Here the
// one cause of it that an import line alone brings back: on Node 22 and later, an ES import of
// node:http (`import { createServer } from 'node:http'`, in our code or in a dependency's ES build)
// loads undici, Node's fetch and WebSocket, for http's WebSocket getters (nodejs/node#59686): about
// 3 MB of heap in each process that does it, for as long as the lab runs. No process of the lab
// needs it at rest. (On Node 20, node:http has no such getters: there this test cannot fail.)
// Likewise libmime and its charset tables (iconv-lite, encoding-japanese, 1.7 MB of the mail app's
// heap), which the mail app loads at the first message that needs them (packages/imap mime/decode.ts),
// not at start: this part fails on Node 20 too when they are imported at start.
// Both the lab's first start, which also sends the welcome messages from the supervisor with
// nodemailer (labs/harness welcome.ts, its CommonJS build), and its second are looked at.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempLab } from '@portlab/testkit';
import { expect, it } from 'vitest';
import { startLab } from './apps.js';

const preload = fileURLToPath(new URL('./idle/loaded-modules.cjs', import.meta.url));

it('no process of a lab at rest has loaded undici, nor libmime and its charset tables', async () => {
  const lab = await tempLab();
  const reports = mkdtempSync(path.join(tmpdir(), 'portlab-modules-'));
  try {
    const env = { ...lab.env, NODE_OPTIONS: `--require ${preload}`, PORTLAB_LOADED_MODULES: reports };
    for (const start of ['first', 'second']) {
      const up = await startLab({ ...lab, env });
      await up.stop();
      expect(readdirSync(reports).length, `processes reported after the ${start} start`).toBeGreaterThan(0);
    }
    const loaded = readdirSync(reports).map((file) => {
      const { argv, modules, cjs } = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
      const name = /apps\/([^/]+)\/dist\/main\.js$/.exec(argv[0])?.[1] ?? 'supervisor';
      return {
        name,
        undici: (modules as string[]).filter((m) => m.includes('undici')),
        charsets: (cjs as string[]).filter((f) =>
          /node_modules\/(libmime|iconv-lite|encoding-japanese)\//.test(f),
        ),
      };
    });
    expect([...new Set(loaded.map((p) => p.name))].sort()).toEqual(
      ['chain', 'chat', 'dns', 'files', 'mail', 'peer', 'supervisor', 'web'].sort(),
    );
    expect(loaded.filter((p) => p.undici.length > 0)).toEqual([]);
    expect(loaded.filter((p) => p.charsets.length > 0).map((p) => ({ [p.name]: p.charsets }))).toEqual([]);
  } finally {
    rmSync(reports, { recursive: true, force: true });
    lab.cleanup();
  }
});
