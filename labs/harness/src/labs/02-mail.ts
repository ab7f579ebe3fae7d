/**
 * Lab 2 — mail: SMTP sends (RFC 5321), IMAP (RFC 3501) and POP3 (RFC 1939) read, each on its
 * own port of the same server. The demo types every command by hand, shows the AUTH line and its
 * base64, then does it again over STARTTLS (RFC 3207) with a spy on the wire; it ends by doing what
 * Thunderbird does: read the autoconfig file, connect with what it says.
 */
import { readdir } from 'node:fs/promises';
import { type LabConfig, labConnectAddress, urlHost } from '@portlab/config';
import { parseAutoconfig } from '../clients/autoconfig.js';
import { HandTyped, imapDone, POP3_END, POP3_STATUS, REPLY, typeAndShow } from '../clients/hand-typed.js';
import { asSeenOnTheWire, hex, Wiretap } from '../clients/wiretap.js';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';
import { inbox, type StoredMessage } from '../maildir.js';

/** The subject the exercise asks for: "TP2 <first name>" or "Lab 2 <first name>". */
export const ASKED_SUBJECT = /^(TP ?2|Lab ?2)\b/i;

const DEMO_SUBJECT = 'Demo: hello Bob';

/** The message body of an SMTP DATA, typed line by line; a lone "." ends it (RFC 5321 §4.5.2). */
async function typeMessage(ctx: StepContext, client: HandTyped, from: string, to: string): Promise<void> {
  await typeAndShow(ctx.out, client, 'DATA', REPLY);
  for (const line of [`From: <${from}>`, `To: <${to}>`, `Subject: ${DEMO_SUBJECT}`, '', 'Hello Bob!']) {
    ctx.out.say(line, 'cyan');
    client.type(line);
  }
  await typeAndShow(ctx.out, client, '.', REPLY);
}

function notListening(ctx: StepContext, service: 'imap'): boolean {
  ctx.out.say({
    fr: `IMAP n'écoute pas encore sur le port ${ctx.config.portOf(service)} dans ce lab : étape sautée.`,
    en: `IMAP is not listening on port ${ctx.config.portOf(service)} in this lab yet: step skipped.`,
  });
  return false;
}

export const mailLab: Lab = {
  id: '02',
  slug: 'mail',
  title: { fr: 'Le courrier : SMTP, IMAP, POP3', en: 'Mail: SMTP, IMAP, POP3' },
  steps: [
    {
      title: { fr: 'Envoyer un mail à la main (SMTP)', en: 'Sending a mail by hand (SMTP)' },
      intro: {
        fr: "Le client (nous) se connecte au port SMTP et tape les commandes. Le serveur répond par un code à 3 chiffres : 2xx = d'accord, 3xx = continue, 5xx = refusé.",
        en: 'The client (us) connects to the SMTP port and types the commands. The server answers with a 3-digit code: 2xx = fine, 3xx = go on, 5xx = refused.',
      },
      async run(ctx) {
        const { config, out } = ctx;
        out.command(`nc -C ${config.publicAddress} ${config.portOf('smtp')}`);
        const smtp = await HandTyped.open(config, config.portOf('smtp'));
        out.say((await smtp.read(REPLY)).trimEnd());
        await typeAndShow(ctx.out, smtp, 'EHLO me', REPLY);
        await typeAndShow(ctx.out, smtp, `MAIL FROM:<alice@${config.domain}>`, REPLY);
        await typeAndShow(ctx.out, smtp, `RCPT TO:<bob@${config.domain}>`, REPLY);
        await typeMessage(ctx, smtp, `alice@${config.domain}`, `bob@${config.domain}`);
        await typeAndShow(ctx.out, smtp, 'QUIT', REPLY);
        smtp.close();
        out.say({ fr: 'Ce que le serveur a noté :', en: 'What the server recorded:' });
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Le lire à la main (IMAP)', en: 'Reading it by hand (IMAP)' },
      intro: {
        fr: 'IMAP : chaque commande commence par une étiquette (a1, a2…) que le serveur reprend dans sa réponse. Le courrier reste sur le serveur.',
        en: 'IMAP: each command starts with a tag (a1, a2…) that the server repeats in its answer. The mail stays on the server.',
      },
      async run(ctx) {
        const { config, out, services } = ctx;
        if (!(await services.listening('imap'))) return void notListening(ctx, 'imap');
        out.command(`nc -C ${config.publicAddress} ${config.portOf('imap')}`);
        const imap = await HandTyped.open(config, config.portOf('imap'));
        out.say((await imap.read(/\r?\n/)).trimEnd());
        await typeAndShow(ctx.out, imap, 'a1 LOGIN bob builder', imapDone('a1'));
        await typeAndShow(ctx.out, imap, 'a2 SELECT INBOX', imapDone('a2'));
        await typeAndShow(
          ctx.out,
          imap,
          'a3 FETCH * (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])',
          imapDone('a3'),
        );
        await typeAndShow(ctx.out, imap, 'a4 LOGOUT', imapDone('a4'));
        imap.close();
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Le lire à la main (POP3)', en: 'Reading it by hand (POP3)' },
      intro: {
        fr: 'POP3 : plus simple et plus ancien. +OK ou -ERR. RETR n télécharge le message n.',
        en: 'POP3: simpler and older. +OK or -ERR. RETR n downloads message n.',
      },
      async run(ctx) {
        const { config, out } = ctx;
        out.command(`nc -C ${config.publicAddress} ${config.portOf('pop3')}`);
        const pop = await HandTyped.open(config, config.portOf('pop3'));
        out.say((await pop.read(POP3_STATUS)).trimEnd());
        await typeAndShow(ctx.out, pop, 'USER bob', POP3_STATUS);
        await typeAndShow(ctx.out, pop, 'PASS builder', POP3_STATUS);
        const stat = await typeAndShow(ctx.out, pop, 'STAT', POP3_STATUS);
        const count = Number(/\+OK (\d+)/.exec(stat)?.[1] ?? 1);
        await typeAndShow(ctx.out, pop, 'LIST', POP3_END);
        await typeAndShow(ctx.out, pop, `RETR ${count}`, POP3_END);
        await typeAndShow(ctx.out, pop, 'QUIT', POP3_STATUS);
        pop.close();
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Se connecter : AUTH et base64', en: 'Logging in: AUTH and base64' },
      intro: {
        fr: "Pour envoyer vers l'extérieur, il faut se connecter (port de soumission). AUTH PLAIN transporte l'identifiant et le mot de passe en base64 : un encodage, pas un chiffrement.",
        en: 'To send mail out you must log in (the submission port). AUTH PLAIN carries the login and password in base64: an encoding, not encryption.',
      },
      async run(ctx) {
        const { config, out } = ctx;
        const plain = Buffer.from('\0alice\0wonderland').toString('base64');
        out.command(`nc -C ${config.publicAddress} ${config.portOf('submission')}`);
        const smtp = await HandTyped.open(config, config.portOf('submission'));
        out.say((await smtp.read(REPLY)).trimEnd());
        await typeAndShow(ctx.out, smtp, 'EHLO me', REPLY);
        await typeAndShow(ctx.out, smtp, `AUTH PLAIN ${plain}`, REPLY);
        await typeAndShow(ctx.out, smtp, 'QUIT', REPLY);
        smtp.close();
        const events = await ctx.transcript.show(out);
        const auth = events.find((e) => e.type === 'line' && e.flags?.includes('credentials'));
        if (auth?.type === 'line') {
          const b64 = auth.line.split(' ').pop() ?? '';
          out.say({
            fr: 'Dans le transcript, la ligne AUTH décodée :',
            en: 'In the transcript, the AUTH line decoded:',
          });
          out.command(`echo ${b64} | base64 -d | tr '\\0' '|'`);
          out.say(`  ${Buffer.from(b64, 'base64').toString('utf8').replaceAll('\0', '|')}`);
        }
      },
    },
    {
      title: { fr: 'La même chose avec STARTTLS', en: 'The same with STARTTLS' },
      intro: {
        fr: 'STARTTLS chiffre la connexion après le 220. Un espion placé sur le fil (ici un relais qui garde chaque octet) voit le texte clair avant, puis des octets illisibles.',
        en: 'STARTTLS encrypts the connection after the 220. A spy on the wire (here a relay that keeps every byte) sees plain text before, then unreadable bytes.',
      },
      async run(ctx) {
        const { config, out } = ctx;
        const tap = await Wiretap.open(labConnectAddress(config), config.portOf('submission'));
        const smtp = await HandTyped.open(config, tap.port);
        out.say((await smtp.read(REPLY)).trimEnd());
        await typeAndShow(ctx.out, smtp, 'EHLO me', REPLY);
        await typeAndShow(ctx.out, smtp, 'STARTTLS', REPLY);
        const clearBytes = tap.captured.length;
        await smtp.startTls();
        out.say(
          { fr: '(TLS établi : la suite est chiffrée)', en: '(TLS set up: what follows is encrypted)' },
          'dim',
        );
        await typeAndShow(ctx.out, smtp, 'EHLO me', REPLY);
        await typeAndShow(
          ctx.out,
          smtp,
          `AUTH PLAIN ${Buffer.from('\0alice\0wonderland').toString('base64')}`,
          REPLY,
        );
        await typeAndShow(ctx.out, smtp, 'QUIT', REPLY);
        smtp.close();
        tap.close();
        out.say({ fr: 'Sur le fil, avant STARTTLS :', en: 'On the wire, before STARTTLS:' });
        for (const c of tap.captured.slice(0, clearBytes))
          out.say(`  ${c.dir} ${asSeenOnTheWire(c.bytes).trim()}`);
        out.say({
          fr: 'Sur le fil, après STARTTLS (enregistrements TLS) :',
          en: 'On the wire, after STARTTLS (TLS records):',
        });
        for (const c of tap.captured.slice(clearBytes, clearBytes + 8)) {
          out.say(`  ${c.dir} ${hex(c.bytes)}   ${asSeenOnTheWire(c.bytes, 32)}`);
        }
        out.say({
          fr: 'Le serveur, lui, déchiffre : son transcript marque [tls] au 220 qui ouvre TLS.',
          en: 'The server decrypts: its transcript marks [tls] on the 220 that opens TLS.',
        });
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Comme Thunderbird : autoconfiguration', en: 'As Thunderbird does: autoconfiguration' },
      intro: {
        fr: 'Thunderbird demande au serveur web le fichier config-v1.1.xml, qui dit quels serveurs, ports et chiffrement utiliser. On fait pareil, puis on lit la boîte de bob avec un vrai client IMAP (imapflow).',
        en: "Thunderbird asks the web server for config-v1.1.xml, which says which servers, ports and encryption to use. We do the same, then read bob's mailbox with a real IMAP client (imapflow).",
      },
      async run(ctx) {
        const { config, out } = ctx;
        const email = `bob@${config.domain}`;
        const where = `:${config.portOf('http')}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=${email}`;
        out.command(`curl 'http://${urlHost(config.publicAddress)}${where}'`);
        const response = await fetch(`http://${urlHost(labConnectAddress(config))}${where}`);
        if (!response.ok) {
          out.say({
            fr: `Le serveur web répond ${response.status} : l'autoconfiguration n'y est pas encore branchée.`,
            en: `The web server answers ${response.status}: autoconfiguration is not wired into it yet.`,
          });
          return;
        }
        const servers = parseAutoconfig(await response.text(), email);
        out.table(
          ['direction', 'type', 'host', 'port', 'socket'],
          servers.map((s) => [s.direction, s.type, s.hostname, s.port, s.socketType]),
        );
        await ctx.transcript.take();
        const imap = servers.find((s) => s.type === 'imap' && s.socketType === 'STARTTLS');
        if (!imap || !(await ctx.services.listening('imap'))) return void notListening(ctx, 'imap');
        await readWithImapflow(config, imap.hostname, imap.port, imap.username, out.say.bind(out));
        await ctx.transcript.show(out, { linesPerSession: 12 });
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    const domain = config.domain.toLowerCase();
    // Every mailbox of the lab: the student may write to themself or to a classmate.
    const boxes = await readdir(config.paths.mail).catch(() => [] as string[]);
    const messages = (await Promise.all(boxes.map((box) => inbox(config.paths.mail, box)))).flat();
    // Sent by this account: our server's own Received: (the top one) says the client logged in
    // (RFC 3848: ESMTPA, ESMTPSA over TLS) and as whom (apps/mail trace.ts, as Postfix writes it).
    // A From: header proves nothing: anyone can write one, on the MX port without a password.
    const sentBy = (m: StoredMessage) => authenticatedSender(m.headers.get('received') ?? '') === user;
    const sent = messages.filter(sentBy);
    const subject = sent.filter((m) => ASKED_SUBJECT.test(m.headers.get('subject') ?? ''));
    const read = subject.filter((m) => m.seen);
    // Only a hint: a message that says it is from this account but came without its login.
    const unauthenticated = messages.some(
      (m) =>
        !sentBy(m) &&
        (m.headers.get('from') ?? '').toLowerCase().includes(`${user}@${domain}`) &&
        ASKED_SUBJECT.test(m.headers.get('subject') ?? ''),
    );
    return [
      checkItem(
        'sent-with-auth',
        sent.length > 0,
        {
          fr: `un message envoyé en se connectant (AUTH) comme ${user}`,
          en: `a message sent logged in (AUTH) as ${user}`,
        },
        unauthenticated
          ? {
              fr: `un message de ${user}@${config.domain} est arrivé, mais sans connexion (AUTH) : quel port demande un identifiant ?`,
              en: `a message from ${user}@${config.domain} arrived, but without a login (AUTH): which port asks for one?`,
            }
          : {
              fr: `aucun message envoyé en se connectant (AUTH) comme ${user} encore : quel port demande un identifiant ?`,
              en: `no message sent logged in (AUTH) as ${user} yet: which port asks for a login?`,
            },
      ),
      checkItem(
        'subject',
        subject.length > 0,
        { fr: "l'objet est celui demandé", en: 'the subject is the one asked for' },
        {
          fr: `aucun message envoyé par ${user} n'a encore l'objet demandé par la fiche`,
          en: `no message sent by ${user} has the subject the sheet asks for yet`,
        },
      ),
      checkItem(
        'read',
        read.length > 0,
        { fr: 'son destinataire l’a lu (drapeau \\Seen)', en: 'its recipient has read it (\\Seen flag)' },
        {
          fr: "son destinataire ne l'a pas encore lu dans un client de messagerie",
          en: 'its recipient has not read it in a mail client yet',
        },
      ),
    ];
  },
};

/**
 * The account a Received: line says logged in to send the message: "with ESMTPA" or "ESMTPSA"
 * (RFC 3848) and "(Authenticated sender: NAME)" (apps/mail/src/smtp/trace.ts); null when not sent
 * with a login.
 */
export function authenticatedSender(received: string): string | null {
  if (!/\bwith ESMTPS?A\b/.test(received)) return null;
  return /\(Authenticated sender: ([^)\s]+)\)/.exec(received)?.[1]?.toLowerCase() ?? null;
}

/** Reads the newest message's subject with imapflow, using only what the autoconfig said. */
async function readWithImapflow(
  config: LabConfig,
  host: string,
  port: number,
  user: string,
  say: (line: string) => void,
): Promise<void> {
  // Loaded when the demo reaches this step: imapflow is the heaviest client library (issue #20).
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host,
    port,
    secure: false,
    doSTARTTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass: 'builder' },
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const status = client.mailbox;
      const exists = status ? status.exists : 0;
      say(`imapflow: INBOX ${exists} message(s) on ${host}:${port} (${config.domain})`);
      if (exists > 0) {
        const last = await client.fetchOne('*', { envelope: true });
        if (last) say(`imapflow: ${last.envelope?.subject ?? ''}`);
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}
