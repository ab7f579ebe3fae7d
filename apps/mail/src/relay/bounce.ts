import { randomBytes } from 'node:crypto';
import type { Envelope } from '@portlab/mailqueue';
import { rfc5322Date } from '../smtp/trace.js';

export interface Failure {
  rcpt: string;
  /** The last reply or error, for Diagnostic-Code. */
  reply: string;
  /** RFC 3463 status: 5.x.x from a server's 5yz reply, 4.4.7 when the queue gave up waiting. */
  status: string;
}

/**
 * A bounce: a delivery status notification (RFC 3464) as Postfix's "Undelivered Mail Returned to
 * Sender". multipart/report (RFC 6522) in three parts: a text for the person, in English and French;
 * message/delivery-status, one block per failed recipient, for programs; the original headers
 * (text/rfc822-headers), so the sender recognises which message it was.
 */
export function bounceMessage(options: {
  envelope: Envelope;
  failures: Failure[];
  /** The lab's domain: the Reporting-MTA, the bounce's From. */
  domain: string;
  originalHeaders: string;
  now?: Date;
}): Buffer {
  const { envelope, failures, domain } = options;
  const now = options.now ?? new Date();
  const boundary = `=_portlab_${randomBytes(8).toString('hex')}`;
  const list = failures.map((f) => `  <${f.rcpt}>: ${f.reply}`).join('\r\n');
  const human = [
    `This is the mail system at ${domain}.`,
    '',
    'Your message could not be delivered to these recipients:',
    list,
    '',
    `Ceci est le serveur de courrier de ${domain}.`,
    '',
    "Votre message n'a pas pu être remis à ces destinataires :",
    list,
  ].join('\r\n');
  const perRecipient = failures
    .map((f) =>
      [
        `Final-Recipient: rfc822; ${f.rcpt}`,
        'Action: failed',
        `Status: ${f.status}`,
        // "smtp;" when a server answered; "X-Portlab;" for the queue's own reason (expired, no host).
        /^\d{3}[ -]/.test(f.reply)
          ? `Diagnostic-Code: smtp; ${oneLine(f.reply)}`
          : `Diagnostic-Code: X-Portlab; ${oneLine(f.reply)}`,
        `Last-Attempt-Date: ${rfc5322Date(now)}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const text = [
    `From: Mail Delivery System <MAILER-DAEMON@${domain}>`,
    `To: <${envelope.from}>`,
    'Subject: Undelivered Mail Returned to Sender / Message non remis',
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${envelope.id}.bounce@${domain}>`,
    // RFC 3834 §5: an automatic reply, never answered automatically in turn.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${domain}`,
    `X-Portlab-Queue-ID: ${envelope.id}`,
    `Arrival-Date: ${rfc5322Date(new Date(envelope.arrived))}`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    options.originalHeaders.replace(/\r?\n$/, ''),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(text);
}

/** The header section of a message (up to the first empty line). */
export function headerSection(message: Buffer): string {
  const text = message.subarray(0, 64 * 1024).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ').trim();
}
