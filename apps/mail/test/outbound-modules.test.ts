// The relay's SMTP client is nodemailer's CommonJS build (src/relay/outbound.ts): its ES build
// imports node:http, and on Node 22 and later an ES import of node:http loads undici (nodejs/node#59686),
// about 3 MB the mail app would then hold for as long as it runs, once it had relayed one message.
// Checked in a process of its own (this one, vitest's, has loaded nodemailer's ES build already), on
// the built module; on Node 20 node:http brings no undici, and this test cannot fail there.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const app = fileURLToPath(new URL('..', import.meta.url));

it("the relay's first connection loads no undici", async () => {
  const logDir = mkdtempSync(path.join(tmpdir(), 'portlab-outbound-'));
  // A connection refused (port 1 on loopback) is enough: the client was loaded to try it.
  const script = `
    import { Transcript } from '@portlab/transcript';
    import { OutboundSession } from './dist/relay/outbound.js';
    const transcript = new Transcript('relay', 0, { logDir: ${JSON.stringify(logDir)} });
    await OutboundSession.open({ address: '127.0.0.1', port: 1, name: 'lab.test', timeoutMs: 2000, transcript })
      .then(() => { throw new Error('port 1 answered'); }, () => {});
    console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));
  `;
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: app }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      ),
    );
    expect(JSON.parse(stdout)).toEqual([]);
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
});
