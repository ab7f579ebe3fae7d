/**
 * The welcome message: on the lab's first start each demo mailbox gets one mail, so that a student
 * who opens Thunderbird or types RETR 1 always has something to fetch. It is delivered over SMTP
 * on the MX port, as any mail is, so it is also the first conversation in the SMTP transcript.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEMO_ACCOUNTS, type LabConfig, labConnectAddress } from '@portlab/config';

export function welcomeMessage(user: string, config: LabConfig): { subject: string; text: string } {
  const p = (s: Parameters<LabConfig['portOf']>[0]) => config.portOf(s);
  return {
    subject: 'Bienvenue dans portlab / Welcome to portlab',
    text: `Bonjour ${user},

Ce message est dans ta boîte aux lettres ${user}@${config.domain} depuis le premier démarrage du
lab. Il est arrivé par SMTP (port ${p('smtp')}) et tu le lis avec IMAP (port ${p('imap')}) ou POP3
(port ${p('pop3')}) : un seul serveur, plusieurs services, un port chacun.
Pour voir la conversation : npx portlab watch

Hello ${user},

This message has been in your mailbox ${user}@${config.domain} since the lab first started. It came
over SMTP (port ${p('smtp')}) and you read it with IMAP (port ${p('imap')}) or POP3 (port ${p('pop3')}):
one server, several services, one port each.
To watch the conversation: npx portlab watch

-- portlab
`,
  };
}

/**
 * Sends the welcome message to each demo account whose mailbox does not exist yet (a first start).
 * Returns who got one. Safe to call at every start: a mailbox that exists is left alone.
 */
export async function deliverWelcome(config: LabConfig): Promise<string[]> {
  const fresh = DEMO_ACCOUNTS.map((a) => a.name).filter(
    (user) => !existsSync(path.join(config.paths.mail, user)),
  );
  if (fresh.length === 0) return [];
  // nodemailer is loaded only here, on a first start: the supervisor that calls this at every start
  // keeps it out of its heap otherwise (issue #20, idle memory). Its CommonJS build: the ES one
  // imports node:http, which on Node 22+ loads undici (3 MB) into the supervisor for the whole day
  // (as apps/mail's relay does, relay/outbound.ts).
  const { createTransport } = createRequire(import.meta.url)('nodemailer') as typeof import('nodemailer');
  // The MX port takes mail for local domains without a login (RFC 5321 §3.6.2: this is relaying to ourselves).
  const transport = createTransport({
    host: labConnectAddress(config),
    port: config.portOf('smtp'),
    secure: false,
    ignoreTLS: true,
    name: 'portlab',
  });
  try {
    for (const user of fresh) {
      await transport.sendMail({
        from: `portlab <portlab@${config.domain}>`,
        to: `${user}@${config.domain}`,
        ...welcomeMessage(user, config),
      });
    }
  } finally {
    transport.close();
  }
  return fresh;
}
