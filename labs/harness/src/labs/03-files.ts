/**
 * Lab 3 — files: FTP (RFC 959) keeps two kinds of connection, the control connection for commands
 * and a data connection, on another port, for each listing or file. In passive mode (PASV, §4.1.2)
 * the client dials the port the server names; in active mode (PORT) the server dials the client.
 * What lands in public_html/ is on the web at once, at /~user/.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { labConnectAddress, urlHost } from '@portlab/config';
import { HandTyped, REPLY, typeAndShow } from '../clients/hand-typed.js';
import { commandLines, writeClientFiles } from '../clients/lab-clients.js';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';
import { linesOf, readTranscript } from '../transcript-file.js';

/** The page the exercise asks for: a heading "TP3 …" or "Lab 3 …". */
export const ASKED_HEADING = /<h1[^>]*>\s*(TP ?3|Lab ?3)\b/i;

/** Types an FTP command and shows it with the server's reply (RFC 959 §4.2). */
function say(ctx: StepContext, ftp: HandTyped, line: string): Promise<string> {
  return typeAndShow(ctx.out, ftp, line, REPLY);
}

async function login(ctx: StepContext): Promise<HandTyped> {
  const { config, out } = ctx;
  out.command(`nc -C ${config.publicAddress} ${config.portOf('ftp')}`);
  const ftp = await HandTyped.open(config, config.portOf('ftp'));
  out.say((await ftp.read(REPLY)).trimEnd());
  await say(ctx, ftp, 'USER alice');
  await say(ctx, ftp, 'PASS wonderland');
  return ftp;
}

/**
 * Everything a data connection carries until the server closes it (RFC 959 §3.3: the end of the
 * data is the close). Silent for 30 s, it fails instead of waiting on.
 */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.setTimeout(30_000, () => {
      socket.destroy();
      reject(
        new Error(
          `the data connection stayed open and silent for 30 s; it had carried: ${text || 'nothing'}`,
        ),
      );
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
}

export const filesLab: Lab = {
  id: '03',
  slug: 'files',
  title: { fr: 'Les fichiers : FTP et la page web', en: 'Files: FTP and the web page' },
  steps: [
    {
      title: { fr: 'FTP à la main, mode passif', en: 'FTP by hand, passive mode' },
      intro: {
        fr: "Connexion de contrôle sur le port FTP pour les commandes. PASV : le serveur ouvre un autre port et nous le donne (les deux derniers nombres : p1×256+p2). Le client s'y connecte pour recevoir la liste : c'est la connexion de données.",
        en: 'A control connection on the FTP port for the commands. PASV: the server opens another port and tells us (the last two numbers: p1×256+p2). The client connects there to get the listing: the data connection.',
      },
      async run(ctx) {
        const ftp = await login(ctx);
        await say(ctx, ftp, 'PWD');
        const pasv = await say(ctx, ftp, 'PASV');
        const n = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv);
        if (!n) throw new Error(`the server's PASV answer has no address: ${pasv}`);
        const dataPort = Number(n[5]) * 256 + Number(n[6]);
        // The address the server named (its public address), as a real client dials it.
        const dataHost = n.slice(1, 5).join('.');
        ctx.out.say(`  ${n[5]}×256+${n[6]} = ${dataPort}`, 'yellow');
        ctx.out.command(
          `nc ${dataHost} ${dataPort}   # ${ctx.out.t({ fr: 'dans un 2e terminal', en: 'in a 2nd terminal' })}`,
        );
        // From the control connection's own address: the server takes data connections from it only.
        const data = connect({ host: dataHost, port: dataPort, localAddress: ftp.localIp });
        const listing = readAll(data);
        await once(data, 'connect', { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
          data.destroy();
          throw new Error(
            `cannot open the data connection to ${dataHost} port ${dataPort} (${err.message}): is that the lab's address (--public-address), and is the passive port range (files.passivePorts) open in the firewall?`,
          );
        });
        await say(ctx, ftp, 'LIST');
        ctx.out.say((await listing).trimEnd() || '(empty)', 'dim');
        await ftp.read(REPLY).then((r) => ctx.out.say(r.trimEnd()));
        await say(ctx, ftp, 'QUIT');
        ftp.close();
        await ctx.transcript.show(ctx.out);
      },
    },
    {
      title: {
        fr: 'Le mode actif : le serveur rappelle le client',
        en: 'Active mode: the server calls the client back',
      },
      intro: {
        fr: "PORT : c'est le client qui écoute sur un port, et le serveur qui s'y connecte. Derrière une box ou un pare-feu, cet appel entrant est souvent bloqué : c'est pourquoi les clients utilisent le mode passif.",
        en: 'PORT: the client listens on a port and the server connects to it. Behind a home router or a firewall that incoming call is often blocked: that is why clients use passive mode.',
      },
      async run(ctx) {
        const { out } = ctx;
        const ftp = await login(ctx);
        // The client listens on its own address, the one the server sees on the control connection:
        // a PORT naming any other is refused (RFC 2577 §3, the FTP bounce attack).
        const me = ftp.localIp;
        const listener = createServer();
        await new Promise<void>((resolve) => listener.listen(0, me, resolve));
        const port = (listener.address() as { port: number }).port;
        const accepted = new Promise<string>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(
                  `the server did not connect back to ${me} port ${port} in 10 s: was the PORT refused (see its reply above), or does a firewall block it?`,
                ),
              ),
            10_000,
          );
          timer.unref();
          listener.once('connection', (s) => {
            clearTimeout(timer);
            resolve(readAll(s));
          });
        });
        accepted.catch(() => undefined); // Handled where awaited; a refused PORT ends the step first.
        out.say(
          { fr: `(le client écoute sur le port ${port})`, en: `(the client listens on port ${port})` },
          'dim',
        );
        const reply = await say(ctx, ftp, `PORT ${me.replaceAll('.', ',')},${port >> 8},${port & 255}`);
        if (!/^2\d\d /m.test(reply)) {
          listener.close();
          ftp.close();
          throw new Error(`the server refused the PORT: ${reply.trim()}`);
        }
        await say(ctx, ftp, 'LIST');
        out.say((await accepted.finally(() => listener.close())).trimEnd() || '(empty)', 'dim');
        await ftp.read(REPLY).then((r) => out.say(r.trimEnd()));
        await say(ctx, ftp, 'QUIT');
        ftp.close();
        listener.close();
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Publier une page, la voir sur le web', en: 'Publishing a page, seeing it on the web' },
      intro: {
        fr: "Un client FTP (comme FileZilla) dépose index.html dans public_html/ ; le serveur web la sert aussitôt à /~bob/. Deux services, deux ports, les mêmes octets. (La démo publie pour bob : la page d'alice, celle de l'exercice, n'est pas touchée.)",
        en: "An FTP client (as FileZilla does) puts index.html into public_html/; the web server serves it at once at /~bob/. Two services, two ports, the same bytes. (The demo publishes for bob: alice's page, the exercise's, is left alone.)",
      },
      async run(ctx) {
        const { config, out } = ctx;
        // As bob, so that replaying the demo never replaces the page alice made for the exercise.
        const page = '<!doctype html>\n<title>Bob</title>\n<h1>Bob was here</h1>\n';
        const { Client } = await import('basic-ftp'); // when the step runs (issue #20)
        const client = new Client();
        try {
          await client.access({
            host: labConnectAddress(config),
            port: config.portOf('ftp'),
            user: 'bob',
            password: 'builder',
          });
          await client.ensureDir('/public_html');
          out.command(
            `curl -T index.html ftp://${urlHost(config.publicAddress)}:${config.portOf('ftp')}/public_html/ -u bob:builder`,
          );
          await client.uploadFrom(Readable.from([page]), 'index.html');
        } finally {
          client.close();
        }
        await ctx.transcript.show(out, { linesPerSession: 40 });
        const where = `:${config.portOf('http')}/~bob/`;
        out.command(`curl -i http://${urlHost(config.publicAddress)}${where}`);
        const res = await fetch(`http://${urlHost(labConnectAddress(config))}${where}`);
        out.say(`HTTP/1.1 ${res.status} ${res.statusText}`);
        out.say((await res.text()).trimEnd());
        await ctx.transcript.show(out);
      },
    },
    {
      title: { fr: 'Des clients prêts à l’emploi', en: 'Ready-made clients' },
      intro: {
        fr: 'Les réglages de FileZilla (fichier à importer) et des lignes de commande curl et swaks, faits pour ce lab :',
        en: 'FileZilla settings (a file to import) and curl and swaks command lines, made for this lab:',
      },
      async run({ config, out }) {
        const files = await writeClientFiles(config);
        for (const file of files) out.say(`  ${file}`);
        for (const line of commandLines(config, 'alice', 'wonderland')) out.say(line);
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    // The page /~user/ serves is this file (apps/web userdir): read where the server reads it, so a
    // check on the server makes no request of its own to the web transcript.
    const index = path.join(config.paths.files, user, 'public_html', 'index.html');
    const page = await readFile(index, 'utf8').catch(() => null);
    // Uploaded by this user: a STOR in an FTP session logged in as them (its `login` event).
    const stored = linesOf(await readTranscript(config, 'ftp'), user).some(
      (e) => e.dir === 'C' && /^(STOR|APPE) .*index\.html?$/i.test(e.line),
    );
    return [
      checkItem(
        'uploaded',
        stored,
        { fr: 'une page index.html a été envoyée par FTP', en: 'an index.html page was uploaded over FTP' },
        {
          fr: "aucune page index.html n'a encore été envoyée par FTP",
          en: 'no index.html page has been uploaded over FTP yet',
        },
      ),
      checkItem(
        'online',
        page !== null,
        { fr: `la page est en ligne à /~${user}/`, en: `the page is online at /~${user}/` },
        {
          fr: `/~${user}/ n'affiche pas encore de page index.html (seulement la liste des fichiers, ou une erreur)`,
          en: `/~${user}/ shows no index.html page yet (only the list of files, or an error)`,
        },
      ),
      checkItem(
        'title',
        /<title>[^<]*\S[^<]*<\/title>/i.test(page ?? ''),
        { fr: 'elle a un titre', en: 'it has a title' },
        {
          fr: "la page n'a pas encore de titre (balise <title>)",
          en: 'the page has no title yet (<title> tag)',
        },
      ),
      checkItem(
        'heading',
        ASKED_HEADING.test(page ?? ''),
        { fr: 'elle a le titre principal demandé', en: 'it has the heading asked for' },
        {
          fr: "la page n'a pas encore le titre principal <h1> demandé par la fiche",
          en: 'the page does not have the <h1> heading the sheet asks for yet',
        },
      ),
    ];
  },
};
