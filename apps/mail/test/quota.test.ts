// The per-mailbox quota (config mail.quotaBytes) on the real mail app, over real sockets: SMTP
// refuses a full mailbox at RCPT (452 4.2.2) and a message that would pass the quota at the end of
// DATA (552 5.2.2), storing it for nobody; IMAP APPEND answers NO [OVERQUOTA]; room made by EXPUNGE
// lets mail in again.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, type MailLab, startMailLab } from './helpers.js';

const QUOTA = 200_000;

/** A message of about `size` bytes (lines of 76 characters). */
function messageOf(subject: string, size: number): string {
  const line = 'x'.repeat(76);
  const lines = Array.from({ length: Math.ceil(size / 78) }, () => line);
  return [`From: alice@lab.test`, `Subject: ${subject}`, '', ...lines].join('\r\n');
}

/** One SMTP transaction on the MX port: the reply to each RCPT, then to the end of DATA (if reached). */
async function send(port: number, to: string[], body: string): Promise<{ rcpt: string[]; data?: string }> {
  const c = await LineClient.connect(port);
  try {
    await c.reply();
    await c.command('EHLO client.test');
    expect(await c.command('MAIL FROM:<alice@lab.test>')).toMatch(/^250/);
    const rcpt: string[] = [];
    for (const address of to) rcpt.push(await c.command(`RCPT TO:<${address}>`));
    if (!rcpt.some((r) => r.startsWith('250'))) return { rcpt };
    expect(await c.command('DATA')).toMatch(/^354/);
    return { rcpt, data: await c.command(`${body}\r\n.`) };
  } finally {
    c.close();
  }
}

/** An IMAP command on a raw connection: every line up to its tagged answer, which is last. */
async function imap(c: LineClient, tag: string, text: string): Promise<string[]> {
  c.send(`${tag} ${text}`);
  const lines: string[] = [];
  do lines.push(await c.line());
  while (!lines.at(-1)!.startsWith(`${tag} `));
  return lines;
}

describe('SMTP at the end of DATA: a message that would pass a quota', () => {
  let mail: MailLab;
  beforeAll(async () => {
    mail = await startMailLab({ mail: { quotaBytes: QUOTA } } as never);
  });
  afterAll(() => mail.stop());

  it('is delivered while under the quota, refused whole with 552 5.2.2 past it, stored for no recipient', async () => {
    const port = mail.lab.ports.smtp;
    for (const n of [1, 2]) {
      const sent = await send(port, ['bob@lab.test'], messageOf(`fits ${n}`, 60_000));
      expect(sent.data).toMatch(/^250/);
    }
    expect(mail.files('bob')).toHaveLength(2);
    // bob holds about 121 kB: 90 kB more would pass his 200 kB. alice has room, but one DATA reply
    // covers both recipients: the message is refused for both.
    const sent = await send(port, ['alice@lab.test', 'bob@lab.test'], messageOf('too much', 90_000));
    expect(sent.rcpt.every((r) => r.startsWith('250'))).toBe(true);
    expect(sent.data).toMatch(/^552 5\.2\.2 .*bob@lab\.test/);
    expect(sent.data).not.toMatch(/kB/); // the sender is not told how much bob holds
    expect(mail.files('bob')).toHaveLength(2);
    expect(mail.files('alice')).toHaveLength(0);
    // The same message to alice alone fits her quota.
    expect((await send(port, ['alice@lab.test'], messageOf('alice only', 90_000))).data).toMatch(/^250/);
    expect(mail.files('alice')).toHaveLength(1);
  });

  it('holds room for deliveries at once: 6 messages of 45 kB sent together, only those that fit are stored', async () => {
    // alice holds about 90 kB of 200: two more fit, not three.
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        send(mail.lab.ports.smtp, ['alice@lab.test'], messageOf(`burst ${i}`, 45_000)),
      ),
    );
    const accepted = replies.filter((r) => r.data?.startsWith('250')).length;
    expect(accepted, JSON.stringify(replies)).toBe(2);
    // The others are refused for the quota: at the end of DATA (552 5.2.2), or at RCPT (452 4.2.2) if
    // the mailbox already looked full when they got there. A failure prints every reply.
    const refused = replies.filter((r) => r.data?.startsWith('552') || r.rcpt[0]?.startsWith('452'));
    expect(refused.length, JSON.stringify(replies)).toBe(4);
    expect(mail.files('alice')).toHaveLength(3);
  });
});

describe('a mailbox at its quota', () => {
  let mail: MailLab;
  beforeAll(async () => {
    mail = await startMailLab({ mail: { quotaBytes: QUOTA } } as never);
    // A message file put in bob's INBOX by hand, before the app first counted his mailbox: its
    // first count sees it. 210 kB: bob is over his quota.
    const cur = path.join(mail.lab.dataDir, 'mail', 'bob', 'cur');
    mkdirSync(cur, { recursive: true });
    writeFileSync(path.join(cur, '1700000000.M1P1Q1.host:2,'), messageOf('by hand', 210_000));
  });
  afterAll(() => mail.stop());

  it('is refused at RCPT with 452 4.2.2 (try again later); IMAP APPEND gets NO [OVERQUOTA]; after EXPUNGE both work again', async () => {
    const port = mail.lab.ports.smtp;
    const refused = await send(port, ['bob@lab.test'], messageOf('small', 1000));
    expect(refused.rcpt[0]).toMatch(/^452 4\.2\.2 /);
    expect(refused.data).toBeUndefined();
    expect(mail.files('bob')).toHaveLength(1);

    const c = await LineClient.connect(mail.lab.ports.imap);
    try {
      await c.line();
      expect((await imap(c, 'a1', 'LOGIN bob builder')).at(-1)).toMatch(/^a1 OK/);
      const note = messageOf('appended', 1000);
      const appended = await imap(c, 'a2', `APPEND Drafts {${Buffer.byteLength(note)}+}\r\n${note}`);
      expect(appended.at(-1)).toMatch(/^a2 NO \[OVERQUOTA\] /);
      expect(mail.files('bob', 'Drafts')).toHaveLength(0);

      // Room made: the message put by hand is deleted.
      expect((await imap(c, 'a3', 'SELECT INBOX')).at(-1)).toMatch(/^a3 OK/);
      expect((await imap(c, 'a4', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).at(-1)).toMatch(/^a4 OK/);
      expect((await imap(c, 'a5', 'EXPUNGE')).at(-1)).toMatch(/^a5 OK/);
      expect(mail.files('bob')).toHaveLength(0);

      const again = await imap(c, 'a6', `APPEND Drafts {${Buffer.byteLength(note)}+}\r\n${note}`);
      expect(again.at(-1)).toMatch(/^a6 OK \[APPENDUID /);
      expect(mail.files('bob', 'Drafts')).toHaveLength(1);
      await imap(c, 'a7', 'LOGOUT');
    } finally {
      c.close();
    }
    const delivered = await send(port, ['bob@lab.test'], messageOf('after expunge', 1000));
    expect(delivered.rcpt[0]).toMatch(/^250/);
    expect(delivered.data).toMatch(/^250/);
    expect(mail.files('bob')).toHaveLength(1);
  });
});
