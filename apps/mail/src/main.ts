/**
 * The mail app: SMTP on 8025 (MX), 8587 (submission) and 8465 (SMTPS), the outbound queue
 * to the other labs of the class ($DATA/queue, src/relay/), POP3 on 8110 and 8995, IMAP
 * on 8143 and 8993: one process over one mail store ($DATA/mail). Run by `portlab up`; `node apps/mail/dist/main.js` runs it alone.
 */
import type { Socket } from 'node:net';
import { createImapServer } from '@portlab/imap';
import { MailStore } from '@portlab/mailstore';
import { startApp, throttleOf } from '@portlab/service';
import type { MailDeps } from './deps.js';
import { createPop3Server } from './pop3/server.js';
import { Relay } from './relay/relay.js';
import { createSmtpServer } from './smtp/server.js';

const runtime = startApp('mail');
await runtime.users.ensure();
// Each mailbox holds at most config.mail.quotaBytes (packages/mailstore, usage.ts).
const store = new MailStore(runtime.config.paths.mail, { quotaBytes: runtime.config.mail.quotaBytes });
// The outbound queue first: what a crash left in it is delivered as soon as the app is up.
const relay = new Relay(runtime.config, store);
await relay.start();
const deps: MailDeps = {
  config: runtime.config,
  runtime,
  store,
  relay,
  // One throttle for every protocol that takes a password: failures on SMTP count for POP3 too.
  throttle: throttleOf(runtime.config),
  tls: await runtime.certificate(),
};

for (const service of ['smtp', 'submission', 'smtps'] as const) {
  await runtime.serve(service, createSmtpServer(service, deps).server);
}
for (const service of ['pop3', 'pop3s'] as const) {
  await runtime.serve(service, createPop3Server(service, deps));
}
const imap = {
  store: deps.store,
  users: runtime.users,
  throttle: deps.throttle,
  certificate: deps.tls,
  config: runtime.config,
  sessionOf: (socket: Socket) => runtime.sessionOf(socket),
};
await runtime.serve('imap', createImapServer({ ...imap, implicitTls: false }));
await runtime.serve('imaps', createImapServer({ ...imap, implicitTls: true }));
runtime.ready();
