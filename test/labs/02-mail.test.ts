import { HandTyped, POP3_END, POP3_STATUS } from '@portlab/labs';
import { type TempLab, tempLab } from '@portlab/testkit';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portlab, startLab } from './helpers.js';

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

  it('check: unfinished, then a message with the asked subject sent with AUTH and read', async () => {
    const before = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(before.code).toBe(1);
    expect(before.out).toContain('no message from alice has the subject');

    const transport = createTransport({
      host: '127.0.0.1',
      port: lab.ports.submission,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'wonderland' },
    });
    await transport.sendMail({
      from: 'alice@lab.test',
      to: 'bob@lab.test',
      subject: 'TP2 Zoé',
      text: 'Bonjour Bob',
    });
    transport.close();
    const sent = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(sent.code).toBe(1);
    expect(sent.out).toContain('✔ the subject is the one asked for');
    expect(sent.out).toContain('bob has not read it');

    const pop = await HandTyped.open('127.0.0.1', lab.ports.pop3);
    await pop.read(POP3_STATUS);
    await pop.say('USER bob', POP3_STATUS);
    await pop.say('PASS builder', POP3_STATUS);
    const stat = await pop.say('STAT', POP3_STATUS);
    const n = /\+OK (\d+)/.exec(stat)![1];
    await pop.say(`RETR ${n}`, POP3_END);
    await pop.say('QUIT', POP3_STATUS);
    pop.close();
    const done = await portlab(lab, ['check', '02', '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });
});
