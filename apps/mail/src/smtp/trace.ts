import { plainAddress } from '@portlab/transcript';
import type { SMTPServerSession } from 'smtp-server';

/**
 * The trace headers the final delivery server adds at the top (RFC 5321 §4.4): `Return-Path:`
 * with the envelope sender, and a `Received:` line saying from whom, by whom, with which protocol
 * and when. The protocol name comes from RFC 3848: ESMTP, plus S for TLS and A for AUTH.
 */
export function traceHeaders(session: SMTPServerSession, serverName: string, now = new Date()): Buffer {
  const { envelope } = session;
  const sender = envelope.mailFrom ? envelope.mailFrom.address : '';
  const helo = session.hostNameAppearsAs || 'unknown';
  const address = plainAddress(session.remoteAddress);
  // Name the recipient only when there is one: with several, the line would tell each of them about the others (BCC).
  const only = envelope.rcptTo.length === 1 ? `\r\n\tfor <${envelope.rcptTo[0]!.address}>` : '';
  const received =
    `Received: from ${helo} ([${address}])\r\n` +
    `\tby ${serverName} (portlab) with ${session.transmissionType} id ${session.id}${only};\r\n` +
    `\t${rfc5322Date(now)}\r\n`;
  return Buffer.from(`Return-Path: <${sender}>\r\n${received}`);
}

/** RFC 5322 §3.3 date-time, e.g. "Wed, 27 Nov 2024 12:34:56 +0000". */
export function rfc5322Date(date: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getUTCDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    date.getUTCMonth()
  ];
  const time = date.toISOString().slice(11, 19);
  return `${day}, ${date.getUTCDate()} ${month} ${date.getUTCFullYear()} ${time} +0000`;
}
