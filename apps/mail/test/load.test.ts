import { readFileSync } from 'node:fs';
import { MailStore } from '@portlab/mailstore';
import { waitFor } from '@portlab/testkit';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, type MailLab, startMailLab } from './helpers.js';

let mail: MailLab;
beforeAll(async () => {
  mail = await startMailLab();
});
afterAll(() => mail.stop());

describe('under load', () => {
  it('keeps answering new connections while 1,000 idle ones are open', async () => {
    const idle = await Promise.all(
      Array.from({ length: 1000 }, () => LineClient.connect(mail.lab.ports.smtp)),
    );
    try {
      const greetings = await Promise.all(idle.map((c) => c.reply()));
      expect(greetings.every((g) => g.startsWith('220 '))).toBe(true);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: mail.lab.ports.smtp,
        ignoreTLS: true,
      });
      const info = await transport.sendMail({
        from: 'a@example.org',
        to: 'bob@lab.test',
        subject: 'busy',
        text: 'x',
      });
      expect(info.response).toMatch(/^250/);
    } finally {
      for (const c of idle) c.close();
    }
  });

  it('after SIGKILL during parallel sends, every message that got 250 is stored exactly once, whole', async () => {
    const acknowledged: string[] = [];
    let killed = false;
    const sender = async (n: number) => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: mail.lab.ports.smtp,
        ignoreTLS: true,
        pool: true,
        maxConnections: 1,
      });
      for (let i = 0; !killed; i++) {
        const tag = `crash-${n}-${i}`;
        try {
          // The body ends with a known line: a message cut short would miss it.
          await transport.sendMail({
            from: 'a@example.org',
            to: 'bob@lab.test',
            subject: tag,
            text: `${'x'.repeat(5000)}\nEND ${tag}`,
          });
          acknowledged.push(tag);
        } catch {
          break;
        }
      }
      transport.close();
    };
    const senders = Array.from({ length: 8 }, (_, n) => sender(n));
    // Killed in the middle of the sends, once some have been acknowledged (on a busy machine the
    // first 250 may take longer than any fixed wait), while the others are still in flight.
    await waitFor(() => acknowledged.length >= 16, { what: '16 messages acknowledged', timeoutMs: 50_000 });
    killed = true;
    mail.app.kill('SIGKILL');
    await Promise.all(senders);
    expect(acknowledged.length).toBeGreaterThan(0);

    await mail.restart();
    const stored = new Map<string, number>();
    for (const file of mail.files('bob')) {
      const text = readFileSync(file, 'utf8');
      const tag = /^Subject: (crash-\S+)/m.exec(text)?.[1];
      if (!tag) continue;
      expect(text.trimEnd().endsWith(`END ${tag}`)).toBe(true);
      stored.set(tag, (stored.get(tag) ?? 0) + 1);
    }
    for (const tag of acknowledged) expect(stored.get(tag)).toBe(1);
    // The store shows exactly the whole files, with one UID each.
    const inbox = await (await new MailStore(`${mail.lab.dataDir}/mail`).mailbox('bob')).folder('INBOX');
    const messages = await inbox.messages();
    expect(messages).toHaveLength(mail.files('bob').length);
    expect(new Set(messages.map((m) => m.uid)).size).toBe(messages.length);
  });
});
