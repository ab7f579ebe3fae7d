import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailLab, startMailLab } from './helpers.js';

let mail: MailLab;

beforeAll(async () => {
  mail = await startMailLab();
});
afterAll(() => mail.stop());

const imapClient = (port: number, secure: boolean) =>
  new ImapFlow({
    host: '127.0.0.1',
    port,
    secure,
    auth: { user: 'bob', pass: 'builder' },
    tls: { rejectUnauthorized: false }, // the lab certificate is self-signed
    logger: false,
  });

describe('the mail app end to end: SMTP in, IMAP out', () => {
  it('tells an IDLE-ing IMAP client about a message as soon as SMTP has said 250, and serves its bytes', async () => {
    const imap = imapClient(mail.lab.ports.imap, false);
    await imap.connect();
    expect(imap.secureConnection).toBe(true); // upgraded with STARTTLS on the plain port
    const lock = await imap.getMailboxLock('INBOX');
    try {
      const before = imap.mailbox ? imap.mailbox.exists : 0;
      const told = new Promise<number>((resolve) => imap.on('exists', () => resolve(performance.now())));
      void imap.idle();
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: mail.lab.ports.smtp,
        tls: { rejectUnauthorized: false }, // the MX port offers STARTTLS with the lab certificate
      });
      const info = await transport.sendMail({
        from: 'alice@lab.test',
        to: 'bob@lab.test',
        subject: 'seen over IMAP',
        text: 'delivered by SMTP, read by IMAP',
      });
      const accepted = performance.now();
      expect(info.response).toMatch(/^250/);
      const toldAt = await told;
      // The figure for the note; not asserted (machines are noisy).
      console.log(`IDLE told ${Math.max(0, toldAt - accepted).toFixed(0)} ms after the 250`);
      const message = await imap.fetchOne('*', { envelope: true, source: true });
      if (!message) throw new Error('FETCH returned nothing');
      expect(message.envelope?.subject).toBe('seen over IMAP');
      expect(message.source?.toString()).toMatch(/delivered by SMTP, read by IMAP/);
      expect(message.seq).toBe(before + 1);
    } finally {
      lock.release();
      await imap.logout();
    }
  });

  it('serves IMAPS (implicit TLS) on its own port', async () => {
    const imap = imapClient(mail.lab.ports.imaps, true);
    await imap.connect();
    const status = await imap.status('INBOX', { messages: true });
    expect(status ? status.messages : 0).toBeGreaterThanOrEqual(1);
    await imap.logout();
  });
});
