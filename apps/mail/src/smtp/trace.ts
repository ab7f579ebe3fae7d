import { plainAddress } from '@portlab/transcript';
import type { SMTPServerSession } from 'smtp-server';

/**
 * The trace headers the final delivery server adds at the top (RFC 5321 §4.4): `Return-Path:`
 * with the envelope sender, and a `Received:` line saying from whom, by whom, with which protocol
 * and when. The protocol name comes from RFC 3848: ESMTP, plus S for TLS and A for AUTH. After a
 * login, the account is named as Postfix does (smtpd_sasl_authenticated_header):
 * "(Authenticated sender: alice)": lab 2's check knows by it who sent the message, which a From:
 * header, written by the client, cannot tell.
 */
export function traceHeaders(session: SMTPServerSession, serverName: string, now = new Date()): Buffer {
  const { envelope } = session;
  const returnPath = envelope.mailFrom ? envelope.mailFrom.address : '';
  const to = envelope.rcptTo.map((r) => r.address);
  return Buffer.concat([
    Buffer.from(`Return-Path: <${returnPath}>\r\n`),
    receivedHeader(session, serverName, { id: session.id, to }, now),
  ]);
}

/**
 * The Received line alone (RFC 5321 §4.4), as every hop adds it: a relayed message gets one here,
 * naming its queue id, and another at the next lab's MX. `to`: the recipients of this copy.
 */
export function receivedHeader(
  session: SMTPServerSession,
  serverName: string,
  copy: { id: string; to: string[] },
  now = new Date(),
): Buffer {
  const helo = session.hostNameAppearsAs || 'unknown';
  const address = plainAddress(session.remoteAddress);
  // Name the recipient only when there is one: with several, the line would tell each of them about the others (BCC).
  const only = copy.to.length === 1 ? `\r\n\tfor <${copy.to[0]}>` : '';
  const user = typeof session.user === 'string' ? session.user : '';
  const sender = user ? `\t(Authenticated sender: ${user})\r\n` : '';
  return Buffer.from(
    `Received: from ${helo} ([${address}])\r\n${sender}` +
      `\tby ${serverName} (portlab) with ${session.transmissionType} id ${copy.id}${only};\r\n` +
      `\t${rfc5322Date(now)}\r\n`,
  );
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
