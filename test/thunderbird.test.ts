/**
 * Lab 2, section 7 ("Reading mail in Thunderbird"), done by the real Thunderbird (Debian's package,
 * headless, driven over Marionette): it finds the lab's autoconfig, gets bob's account from the
 * sheet's manual settings, accepts the self-signed certificate, reads the welcome message over IMAP,
 * sends alice a mail over submission, and alice reads it. Skipped, and says why, where
 * /usr/bin/thunderbird is absent.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLabCertificate, type LabConfig, UserStore } from '@portlab/config';
import { deliverWelcome, inbox, readTranscript, welcomeMessage } from '@portlab/labs';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import type { LineEvent } from '@portlab/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configOf } from './labs/helpers.js';
import { startThunderbird, THUNDERBIRD, type Thunderbird } from './thunderbird/launcher.js';

const installed = existsSync(THUNDERBIRD);
if (!installed)
  console.warn(`thunderbird.test.ts skipped: ${THUNDERBIRD} is absent (apt-get install thunderbird)`);

const BOB = { fullName: 'Bob', email: 'bob@lab.test', username: 'bob', password: 'builder' };
const ALICE = { fullName: 'Alice', email: 'alice@lab.test', username: 'alice', password: 'wonderland' };
const SUBJECT = 'Lab 2 from Thunderbird';

interface Server {
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
}
interface Account {
  key: string;
  incoming: Server;
  outgoing: Server;
  savedPasswords: string[];
}
interface Message {
  uri: string;
  subject: string;
  author: string;
}

let lab: TempLab;
let config: LabConfig;
const apps: ChildProcess[] = [];
let thunderbird: Thunderbird;
let bob: Account;
let labCertificate: string;

/** An app of the lab as a child process (in `apps` at once, for afterAll), ready when it says so. */
function startApp(name: 'mail' | 'web'): Promise<void> {
  const main = fileURLToPath(new URL(`../apps/${name}/dist/main.js`, import.meta.url));
  const app = fork(main, [], { env: lab.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  apps.push(app);
  return new Promise((resolve, reject) => {
    app.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the ${name} app exited with ${code} before it was ready`)));
  });
}

/** The sheet's table: IMAP and SMTP on 127.0.0.1, STARTTLS, "Normal password". */
function manualSettings(user: typeof BOB) {
  return { ...user, host: '127.0.0.1', imapPort: lab.ports.imap, smtpPort: lab.ports.submission };
}

async function lines(service: string): Promise<LineEvent[]> {
  return (await readTranscript(config, service)).filter((e): e is LineEvent => e.type === 'line');
}

describe.skipIf(!installed)('lab 02, section 7: the real Thunderbird', () => {
  beforeAll(async () => {
    lab = await tempLab();
    config = configOf(lab);
    // What `portlab up` makes once before it starts the apps: started together on an empty data dir,
    // each would make its own certificate, and the mail app might not serve the one left on disk.
    await new UserStore(config.paths.users).ensure();
    labCertificate = (await ensureLabCertificate(config.paths.tls, [config.host])).cert;
    await Promise.all([startApp('mail'), startApp('web')]);
    // What `portlab up` does on a first start: the welcome message the sheet has bob read.
    await deliverWelcome(config);
    const started = Date.now();
    thunderbird = await startThunderbird({ httpPort: lab.ports.http, httpsPort: lab.ports.https });
    console.log(`Thunderbird ready for commands in ${Date.now() - started} ms`);
  }, 120_000);

  afterAll(async () => {
    await thunderbird?.quit();
    await Promise.all(
      apps
        .filter((app) => app.exitCode === null && app.signalCode === null)
        .map((app) => {
          const exited = new Promise((resolve) => app.once('exit', resolve));
          app.kill('SIGTERM');
          return exited;
        }),
    );
    lab?.cleanup();
  });

  it('finds the lab settings in its autoconfig, once lab.test and port 80 lead to the lab', async () => {
    // The two obstacles the sheet names, lifted in the profile: every name resolves to 127.0.0.1
    // and port 80 goes to the web app's port. Then Thunderbird's own lookup does the rest.
    const found = await thunderbird.step<{ source: string; incoming: Server[]; outgoing: Server[] }>(
      'autoconfig',
      BOB,
    );
    // https first (refused: the lab certificate is not trusted yet), then plain http.
    expect(found.source).toBe('xml-from-isp-http');
    const server = (type: string, port: number, socketType: string) => ({
      type,
      hostname: '127.0.0.1',
      port,
      socketType,
      username: 'bob',
    });
    expect(found.incoming).toEqual([
      server('imap', lab.ports.imap, 'STARTTLS'),
      server('imap', lab.ports.imaps, 'SSL'),
      server('pop3', lab.ports.pop3, 'STARTTLS'),
      server('pop3', lab.ports.pop3s, 'SSL'),
    ]);
    expect(found.outgoing[0]).toEqual(server('smtp', lab.ports.submission, 'STARTTLS'));
    expect(found.outgoing[1]).toMatchObject({ type: 'smtp', port: lab.ports.smtps, socketType: 'SSL' });
    // The web app writes its transcript once per turn of its event loop, so the line may land on disk
    // a moment after Thunderbird has its answer: wait for it rather than read once.
    const request = /^GET \/mail\/config-v1\.1\.xml\?emailaddress=bob%40lab\.test HTTP\/1\.1$/;
    const asked = async () => (await lines('http')).filter((e) => e.dir === 'C').map((e) => e.line);
    await waitFor(async () => (await asked()).some((line) => request.test(line)), {
      timeoutMs: 10_000,
      what: "the autoconfig request in the web app's transcript",
    }).catch(() => undefined);
    expect(await asked()).toContainEqual(expect.stringMatching(request));
  });

  it('stores a permanent security exception for the lab certificate on the IMAP and submission ports', async () => {
    // Before the account exists, as in the account hub (its login test asks for the exception): a new
    // account lists its folders at once, and a connection refused there would fail the next step.
    const der = labCertificate.replace(/-----[A-Z ]+-----|\s/g, '');
    for (const port of [lab.ports.imap, lab.ports.submission]) {
      expect(await thunderbird.step('addSecurityException', { host: '127.0.0.1', port, der })).toEqual({
        subject: 'CN=portlab lab certificate',
        stored: true,
      });
    }
  });

  it("sets bob's account up with the sheet's manual settings and remembers the password", async () => {
    bob = await thunderbird.step<Account>('createAccount', manualSettings(BOB));
    const settings = (type: string, port: number) => ({
      type,
      hostname: '127.0.0.1',
      port,
      socketType: 'STARTTLS',
      username: 'bob',
    });
    expect(bob.incoming).toEqual(settings('imap', lab.ports.imap));
    expect(bob.outgoing).toEqual(settings('smtp', lab.ports.submission));
    expect(bob.savedPasswords).toEqual(['imap://127.0.0.1 bob', 'smtp://127.0.0.1 bob']);
  });

  it('gets the INBOX over IMAP and opens the welcome message', async () => {
    const messages = await thunderbird.step<Message[]>('getMessages', bob.key);
    const welcome = welcomeMessage('bob', config);
    expect(messages).toEqual([
      {
        uri: expect.stringMatching(/^imap-message:\/\/bob@127\.0\.0\.1\/INBOX#\d+$/),
        subject: welcome.subject,
        author: 'portlab <portlab@lab.test>',
      },
    ]);
    const opened = await thunderbird.step<{ subject: string; text: string }>('readMessage', messages[0]!.uri);
    expect(opened.subject).toBe(welcome.subject);
    expect(opened.text.trim()).toBe(welcome.text.trim());
  });

  it('sends alice a mail through submission (STARTTLS, AUTH) and files a copy in Sent', async () => {
    const sent = await thunderbird.step('send', {
      accountKey: bob.key,
      to: ALICE.email,
      subject: SUBJECT,
      body: 'Hello alice,\nthis went through the submission port.\n',
    });
    expect(sent).toEqual({ sent: true, copiedToSent: true });
    const arrived = (await inbox(config.paths.mail, 'alice')).find(
      (m) => m.headers.get('subject') === SUBJECT,
    );
    expect(arrived?.headers.get('from')).toBe('Bob <bob@lab.test>');
    expect(arrived?.headers.get('user-agent')).toBe('Mozilla Thunderbird');
    // ESMTPSA: received with SMTP after STARTTLS and AUTH (RFC 3848).
    expect(arrived?.headers.get('received')).toMatch(/ with ESMTPSA /);
    const sentFolder = await inbox(path.join(config.paths.mail, 'bob'), '.Sent');
    expect(sentFolder.map((m) => m.headers.get('subject'))).toEqual([SUBJECT]);
  });

  it("reads bob's mail in alice's account, set up the same way", async () => {
    const alice = await thunderbird.step<Account>('createAccount', manualSettings(ALICE));
    const messages = await thunderbird.step<Message[]>('getMessages', alice.key);
    expect(messages.map((m) => [m.subject, m.author])).toContainEqual([SUBJECT, 'Bob <bob@lab.test>']);
  });

  it("leaves in the transcripts Thunderbird's tagged IMAP commands, STARTTLS, then AUTH", async () => {
    const imap = await lines('imap');
    const commands = imap.filter((e) => e.dir === 'C' && !e.flags?.includes('credentials'));
    const literal = (e: LineEvent) => e.flags?.includes('summary') || e.line === '';
    // RFC 3501 §2.2.1: each command starts with a tag; Thunderbird numbers them.
    for (const command of commands.filter((e) => !literal(e))) expect(command.line).toMatch(/^\d+ [A-Za-z]/);
    const said = commands.map((e) => e.line.replace(/^\d+ /, ''));
    expect(said).toContain('STARTTLS');
    expect(said).toContainEqual(expect.stringMatching(/^ID \("name" "Thunderbird" "version" "[\d.]+"\)$/));
    expect(said).toContain('select "INBOX"');
    expect(said).toContainEqual(expect.stringMatching(/^UID fetch \d+ \(UID RFC822\.SIZE BODY\.PEEK\[\]\)$/));
    expect(said).toContainEqual(expect.stringMatching(/^append "Sent" \(\\Seen\) \{\d+\+?\}$/));

    for (const [service, transcript] of [
      ['imap', imap],
      ['submission', await lines('submission')],
    ] as const) {
      for (const session of new Set(transcript.map((e) => e.session))) {
        const events = transcript.filter((e) => e.session === session);
        const tls = events.findIndex((e) => e.flags?.includes('tls'));
        const auth = events.findIndex((e) => e.flags?.includes('credentials'));
        expect(tls, `${service} session ${session} switched to TLS`).toBeGreaterThan(0);
        expect(events[tls]!.line, service).toMatch(/^(\d+ OK|220) /);
        // The password went only inside TLS.
        expect(auth, `${service} session ${session} logged in after STARTTLS`).toBeGreaterThan(tls);
      }
    }
  });
});
