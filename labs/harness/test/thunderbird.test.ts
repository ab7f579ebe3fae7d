/**
 * Lab 2, section 7 ("Reading mail in Thunderbird"), done by the real Thunderbird: it reads the
 * lab's autoconfig, gets bob's account set up by hand as the sheet says, accepts the self-signed
 * certificate, reads the welcome message over IMAP and sends a mail to alice over submission.
 * Skipped, and says so, where Debian's thunderbird package is not installed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabConfig } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox } from '../src/maildir.js';
import { readTranscript } from '../src/transcript-file.js';
import { deliverWelcome, welcomeMessage } from '../src/welcome.js';
import { configOf } from './helpers.js';
import { startThunderbird, THUNDERBIRD, type Thunderbird } from './thunderbird/launcher.js';

const installed = existsSync(THUNDERBIRD);
if (!installed) console.warn(`thunderbird.test.ts skipped: ${THUNDERBIRD} is absent (apt-get install thunderbird)`);

const BOB = { fullName: 'Bob', email: 'bob@lab.test', username: 'bob', password: 'builder' };

let lab: TempLab;
let config: LabConfig;
let apps: ChildProcess[] = [];
let thunderbird: Thunderbird;

/** An app of the lab as a child process, resolved when it says every port was tried. */
function startApp(name: 'mail' | 'web'): Promise<ChildProcess> {
  const main = fileURLToPath(new URL(`../../../apps/${name}/dist/main.js`, import.meta.url));
  const app = fork(main, [], { env: lab.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    app.on('message', (m: { type?: string }) => m.type === 'ready' && resolve(app));
    app.once('exit', (code) => reject(new Error(`the ${name} app exited with ${code} before it was ready`)));
  });
}

describe.skipIf(!installed)('lab 02, section 7: the real Thunderbird', () => {
  beforeAll(async () => {
    lab = await tempLab();
    config = configOf(lab);
    apps = await Promise.all([startApp('mail'), startApp('web')]);
    await deliverWelcome(config);
    const started = Date.now();
    thunderbird = await startThunderbird({ httpPort: lab.ports.http, httpsPort: lab.ports.https });
    console.log(`Thunderbird started in ${Date.now() - started} ms`);
  }, 90_000);

  afterAll(async () => {
    await thunderbird?.quit();
    await Promise.all(
      apps.map((app) => {
        const exited = new Promise((resolve) => app.once('exit', resolve));
        app.kill('SIGTERM');
        return exited;
      }),
    );
    lab?.cleanup();
  });

  it('exploratory', async () => {
    const made = (await thunderbird.step('createAccount', {
      ...BOB,
      host: '127.0.0.1',
      imapPort: lab.ports.imap,
      smtpPort: lab.ports.submission,
    })) as { key: string };
    const first = (await thunderbird.step('getMessages', made.key)) as { certificate: { der: string } };
    console.log(await thunderbird.step('addSecurityException', { host: '127.0.0.1', port: lab.ports.imap, der: first.certificate.der }));
    const second = (await thunderbird.step('getMessages', made.key)) as { messages: { uri: string }[] };
    console.log(JSON.stringify(second, null, 2));
    console.log(JSON.stringify(await thunderbird.step('readMessage', second.messages[0]!.uri), null, 2));
    const sent = await thunderbird.step('send', { accountKey: made.key, to: 'alice@lab.test', subject: 'From Thunderbird', body: 'Hello alice,\nsent by Thunderbird.\n' });
    console.log(JSON.stringify(sent, null, 2).slice(0, 300));
    console.log(await thunderbird.step('addSecurityException', { host: '127.0.0.1', port: lab.ports.submission, der: first.certificate.der }));
    const sent2 = await thunderbird.step('send', { accountKey: made.key, to: 'alice@lab.test', subject: 'From Thunderbird', body: 'Hello alice,\nsent by Thunderbird.\n' });
    console.log(JSON.stringify(sent2, null, 2).slice(0, 300));
    console.log(JSON.stringify(await inbox(config.paths.mail, 'alice'), (k, v) => v instanceof Map ? Object.fromEntries(v) : v, 2));
    for (const service of ['imap', 'submission']) {
      const events = await readTranscript(config, service);
      console.log(events.map((e) => `${e.session} ${e.dir}: ${e.line} ${e.flags ?? ''}`).join('\n'));
    }
  });
});
