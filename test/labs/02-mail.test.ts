import { HandTyped, POP3_END, POP3_STATUS } from '@portlab/labs';
import { type TempLab, tempLab } from '@portlab/testkit';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, remoteCheck, startLab } from './helpers.js';

let lab: TempLab;
let demo: { code: number; out: string };
let running: { stop(): Promise<void> };
beforeAll(async () => {
  lab = await tempLab();
  running = await startLab(lab);
  demo = await portlab(lab, ['lab', '02', '--lang', 'en']);
});
afterAll(async () => {
  await running.stop();
  lab.cleanup();
});

describe('lab 02: mail', () => {
  it('types SMTP by hand on the MX port and shows the ports', () => {
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toMatch(
      new RegExp(`client 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${lab.ports.smtp} SMTP`),
    );
    expect(demo.out).toMatch(/C: RCPT TO:<bob@lab\.test>\n\s+S: 250/);
  });

  it('reads over POP3 by hand', () => {
    expect(demo.out).toMatch(new RegExp(`-> 127\\.0\\.0\\.1:${lab.ports.pop3} POP3`));
    expect(demo.out).toContain('Subject: Demo: hello Bob');
  });

  it('finds AUTH in the transcript and decodes its base64; STARTTLS makes the wire unreadable', () => {
    expect(demo.out).toMatch(/AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\s+\[credentials\]/);
    expect(demo.out).toContain('|alice|wonderland');
    expect(demo.out).toMatch(/S: 220 [^\n]*\[tls\]/);
    expect(demo.out).toMatch(/On the wire, after STARTTLS[^\n]*\n\s+> 16 03/);
  });

  it('reads by hand over IMAP and configures imapflow from autoconfig (once IMAP is wired)', (t) => {
    // Until the mail app serves IMAP the demo says so, and this test reports itself skipped, not passed.
    if (demo.out.includes('IMAP is not listening')) t.skip();
    expect(demo.out).toMatch(/a1 OK/);
    expect(demo.out).toMatch(new RegExp(`imap\\s+127\\.0\\.0\\.1\\s+${lab.ports.imap}\\s+STARTTLS`));
    expect(demo.out).toMatch(/imapflow: INBOX \d+ message/);
  });

  it('check, solo: alice sends bob the asked subject with AUTH, bob reads it', async () => {
    // The demo logged in as alice (AUTH step) but sent nothing logged in: none of it is alice's exercise.
    const before = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(before.code).toBe(1);
    expect(before.out).toContain('✘ no message sent logged in (AUTH) as alice yet');
    expect(before.out).toContain('0/3 done');

    await send('alice', 'wonderland', 'bob@lab.test', 'TP2 Zoé');
    const sent = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(sent.code).toBe(1);
    expect(sent.out).toContain('✔ a message sent logged in (AUTH) as alice');
    expect(sent.out).toContain('✔ the subject is the one asked for');
    expect(sent.out).toContain('✘ its recipient has not read it');

    await readNewestByPop3('bob', 'builder');
    const done = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });

  it("check in a class: only e07's own login counts, asked of the server with --server", async () => {
    await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2' });
    // A classmate sends e07 the asked subject, logged in as e08: e08's work, not e07's.
    await send('e08', 'e08-Pass2', 'e07@lab.test', 'TP2 from e08');
    // Someone writes "From: e07" on the MX port, without a login: proves nothing.
    await send(null, null, 'e07@lab.test', 'TP2 forged', 'e07@lab.test');
    const notYet = await remoteCheck(lab, '02', 'e07', 'e07-Pass1');
    expect(notYet.code, notYet.out).toBe(1);
    expect(notYet.out).toContain('✘ a message from e07@lab.test arrived, but without a login (AUTH)');
    expect(notYet.out).toContain('✘ no message sent by e07 has the subject');

    // Wrong password: exit 2 and says so, no check.
    const wrong = await remoteCheck(lab, '02', 'e07', 'e07-Wrong');
    expect(wrong.code, wrong.out).toBe(2);
    expect(wrong.out).toContain(`127.0.0.1:${lab.ports.http} refused the password of e07`);
    expect(wrong.out).not.toContain('✔');

    // e07 writes to themself, logged in, and reads it.
    await send('e07', 'e07-Pass1', 'e07@lab.test', 'Lab 2 Zoé');
    // Asked of the server once unread, then once read: the server's answer follows the \Seen flag.
    const unread = await remoteCheck(lab, '02', 'e07', 'e07-Pass1');
    expect(unread.code, unread.out).toBe(1);
    expect(unread.out).toContain('✔ the subject is the one asked for');
    expect(unread.out).toContain('✘ its recipient has not read it');
    await readNewestByPop3('e07', 'e07-Pass1');
    const done = await remoteCheck(lab, '02', 'e07', 'e07-Pass1');
    expect(done.out).toContain('✔ a message sent logged in (AUTH) as e07');
    expect(done.out).toContain('All correct');
    expect(done.code, done.out).toBe(0);

    // e08's check is e08's: sent with e08's login, but e07 has not read it.
    const e08 = await portlab(lab, ['check', '02', '--user', 'e08', '--lang', 'en']);
    expect(e08.out).toContain('✔ a message sent logged in (AUTH) as e08');
    expect(e08.out).toContain('✘ its recipient has not read it');
  });
});

/** Sends a message as a mail client does: on the submission port logged in, or on the MX port without (user null). */
async function send(
  user: string | null,
  pass: string | null,
  to: string,
  subject: string,
  from = `${user}@lab.test`,
): Promise<void> {
  const transport = createTransport({
    host: '127.0.0.1',
    port: user ? lab.ports.submission : lab.ports.smtp,
    secure: false,
    requireTLS: Boolean(user),
    tls: { rejectUnauthorized: false },
    ...(user && pass ? { auth: { user, pass } } : {}),
  });
  await transport.sendMail({ from, to, subject, text: 'Bonjour' });
  transport.close();
}

/** RETR of the newest message over POP3 by hand: the mail server marks it \Seen. */
async function readNewestByPop3(user: string, pass: string): Promise<void> {
  const pop = await HandTyped.open('127.0.0.1', lab.ports.pop3);
  await pop.read(POP3_STATUS);
  await pop.say(`USER ${user}`, POP3_STATUS);
  await pop.say(`PASS ${pass}`, POP3_STATUS);
  const stat = await pop.say('STAT', POP3_STATUS);
  const n = /\+OK (\d+)/.exec(stat)![1];
  await pop.say(`RETR ${n}`, POP3_END);
  await pop.say('QUIT', POP3_STATUS);
  pop.close();
}
