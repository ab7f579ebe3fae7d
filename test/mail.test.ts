import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import type { TranscriptEvent } from '@portlab/transcript';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';

/**
 * The flow "a mail" (docs/architecture.md): a client sends over SMTP (nodemailer) -> the mail app
 * stores it durably, then answers 250 -> the store's change feed -> an IMAP session in IDLE
 * (imapflow) is told `* N EXISTS` -> FETCH gives the bytes that were sent. The real mail app
 * (apps/mail/dist/main.js) on the free ports of a temp lab.
 */

let lab: TempLab;
let mail: RunningApp;
beforeAll(async () => {
  lab = await tempLab();
  mail = await startApp(lab, 'mail');
});
afterAll(async () => {
  await mail?.stop();
  lab?.cleanup();
});

/** The IMAPS transcript's lines so far, in order. */
function imapsLines(): Extract<TranscriptEvent, { type: 'line' }>[] {
  let text = '';
  try {
    text = readFileSync(path.join(lab.dataDir, 'log', 'imaps.ndjson'), 'utf8');
  } catch {
    return [];
  }
  // The last line may be half written: only whole lines (each ends with \n).
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as TranscriptEvent)
    .filter((e): e is Extract<TranscriptEvent, { type: 'line' }> => e.type === 'line');
}

describe('a mail from SMTP to an IMAP FETCH', () => {
  it('an IDLE-ing session is told of the delivery (EXISTS), and FETCH gives the message sent', async () => {
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: lab.ports.imaps,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'bob', pass: 'builder' },
      logger: false,
    });
    await imap.connect();
    try {
      const inbox = await imap.mailboxOpen('INBOX');
      const before = inbox.exists;
      const told = new Promise<number>((resolve) =>
        imap.on('exists', (data: { count: number }) => resolve(data.count)),
      );
      const idling = imap.idle();
      // Sent only once the server has said `+ idling`: the news must come through IDLE.
      await waitFor(
        () => {
          const lines = imapsLines();
          const idle = lines.findIndex((e) => e.dir === 'C' && /^\S+ IDLE$/i.test(e.line));
          return idle >= 0 && lines.slice(idle).some((e) => e.dir === 'S' && e.line.startsWith('+ '));
        },
        { what: "the server's `+` continuation to IDLE in imaps.ndjson" },
      );

      const subject = `flow ${Date.now()}`;
      const text = 'From SMTP to an IMAP FETCH.\r\nSecond line, é.\r\n';
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: lab.ports.smtp,
        ignoreTLS: true,
      });
      const sent = await transport.sendMail({ from: 'alice@lab.test', to: 'bob@lab.test', subject, text });
      transport.close();
      expect(sent.response).toMatch(/^250 /);

      expect(await told).toBe(before + 1);
      // The transcript is written once per turn of the server's event loop: maybe after the client read it.
      await waitFor(() => imapsLines().some((e) => e.dir === 'S' && e.line === `* ${before + 1} EXISTS`), {
        what: `S: * ${before + 1} EXISTS in imaps.ndjson`,
      });
      // FETCH ends the IDLE first (imapflow sends DONE), and idle() then resolves.
      const message = await imap.fetchOne(String(before + 1), { envelope: true, source: true });
      await idling;
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(message.envelope?.subject).toBe(subject);
      expect(message.envelope?.messageId).toBe(sent.messageId);
      const source = message.source!.toString('utf8');
      expect(source).toMatch(/^Return-Path: <alice@lab\.test>\r\n/m);
      expect(source).toContain(`Subject: ${subject}\r\n`);
    } finally {
      await imap.logout();
    }
  });
});
