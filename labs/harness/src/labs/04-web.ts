/**
 * Lab 4 — the web: HTTP/1.1 by hand (RFC 9112: request line, Host header, status line, header
 * fields), status codes (RFC 9110 §15), then the same page over HTTPS and what the browser's
 * certificate warning means (a self-signed certificate: nobody the client trusts vouches for it).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { labConnectAddress, urlHost } from '@portlab/config';
import { hostOfEndpoint, type TranscriptEvent } from '@portlab/transcript';
import { HandTyped } from '../clients/hand-typed.js';
import { checkedUser, checkItem, type Lab, type StepContext } from '../lab.js';
import { loginAddresses, readTranscript } from '../transcript-file.js';

/** The head of an HTTP response: status line and header fields, up to the empty line (RFC 9112 §2.1). */
const HEAD = /\r?\n\r?\n/;

async function request(ctx: StepContext, lines: string[]): Promise<string> {
  const { config, out } = ctx;
  out.command(`nc -C ${config.publicAddress} ${config.portOf('http')}`);
  const http = await HandTyped.open(config, config.portOf('http'));
  for (const line of [...lines, '']) {
    out.say(line, 'cyan');
    http.type(line);
  }
  const head = (await http.read(HEAD)).trimEnd();
  out.say(head);
  http.close();
  await ctx.transcript.show(out);
  return head;
}

export const webLab: Lab = {
  id: '04',
  slug: 'web',
  title: { fr: 'Le web : HTTP et HTTPS', en: 'The web: HTTP and HTTPS' },
  steps: [
    {
      title: { fr: 'Une requête HTTP à la main', en: 'An HTTP request by hand' },
      intro: {
        fr: "Une requête : la ligne de requête (méthode, chemin, version), des en-têtes dont Host (quel site), une ligne vide. La réponse : la ligne d'état (200 OK), des en-têtes, une ligne vide, la page.",
        en: 'A request: the request line (method, path, version), header fields including Host (which site), an empty line. The response: the status line (200 OK), header fields, an empty line, the page.',
      },
      async run(ctx) {
        await request(ctx, [
          'GET / HTTP/1.1',
          `Host: ${urlHost(ctx.config.publicAddress)}`,
          'Connection: close',
        ]);
      },
    },
    {
      title: { fr: 'Les codes d’état', en: 'Status codes' },
      intro: {
        fr: "2xx réussi, 3xx ailleurs, 4xx erreur du client, 5xx erreur du serveur. Une page qui n'existe pas : 404. Sans Host en HTTP/1.1 : 400. HEAD : seulement les en-têtes.",
        en: '2xx success, 3xx elsewhere, 4xx client error, 5xx server error. A page that does not exist: 404. No Host in HTTP/1.1: 400. HEAD: the headers only.',
      },
      async run(ctx) {
        await request(ctx, [
          'GET /no-such-page HTTP/1.1',
          `Host: ${urlHost(ctx.config.publicAddress)}`,
          'Connection: close',
        ]);
        await request(ctx, ['GET / HTTP/1.1', 'Connection: close']);
        await request(ctx, [
          'HEAD / HTTP/1.1',
          `Host: ${urlHost(ctx.config.publicAddress)}`,
          'Connection: close',
        ]);
      },
    },
    {
      title: { fr: 'HTTPS et l’avertissement du certificat', en: 'HTTPS and the certificate warning' },
      intro: {
        fr: "HTTPS = HTTP dans TLS. Le serveur présente un certificat. Celui du lab est auto-signé : aucune autorité connue du navigateur ne le garantit, d'où l'avertissement. Le chiffrement fonctionne quand même ; ce qui manque, c'est la preuve de l'identité.",
        en: "HTTPS = HTTP inside TLS. The server shows a certificate. The lab's is self-signed: no authority the browser knows vouches for it, hence the warning. Encryption still works; what is missing is proof of identity.",
      },
      async run({ config, out, transcript }) {
        const port = config.portOf('https');
        out.command(`curl https://${urlHost(config.publicAddress)}:${port}/`);
        const refused = await tlsGet(labConnectAddress(config), port, {}).catch((err: Error) => err.message);
        out.say(`  ${refused}`);
        const pem = await readFile(path.join(config.paths.tls, 'cert.pem'), 'utf8');
        const cert = new X509Certificate(pem);
        out.say({ fr: 'Le certificat du lab :', en: "The lab's certificate:" });
        out.say(`  subject  ${cert.subject.replaceAll('\n', ', ')}`);
        out.say(`  issuer   ${cert.issuer.replaceAll('\n', ', ')}`);
        out.say(`  valid    ${cert.validFrom} -> ${cert.validTo}`);
        out.say(`  SHA-256  ${cert.fingerprint256}`);
        out.command(
          `curl --cacert ${path.join(config.paths.tls, 'cert.pem')} https://${urlHost(config.publicAddress)}:${port}/`,
        );
        out.say(`  ${await tlsGet(labConnectAddress(config), port, { ca: pem })}`);
        await transcript.show(out);
      },
    },
  ],

  async check(config, options) {
    const user = checkedUser(options);
    // HTTP has no login: a request is the student's when it asks for one of their own pages, under
    // /~user/ (a demo and `portlab probe` ask for other paths), from a PC the student logged in from
    // on any service (FTP in lab 3, signing in on /lab, `portlab check --server`): a classmate asking
    // for /~e07/ from their own PC does not tick e07's boxes. Until the account has logged in
    // anywhere, the path alone tells (a lab on one PC; the first minutes of a class).
    const from = await loginAddresses(config, user);
    const yours = (x: Exchange) => from.size === 0 || from.has(x.address);
    const pages = (events: TranscriptEvent[]) =>
      exchanges(events).filter((x) => underUserDir(x.target, user));
    const all = [
      ...pages(await readTranscript(config, 'http')),
      ...pages(await readTranscript(config, 'https')),
    ];
    const http = all.filter((x) => !x.tls && yours(x));
    const https = all.filter((x) => x.tls && yours(x));
    const home = `/~${user}/`;
    // Requests for the student's pages from elsewhere: said in the hints, so a student who used
    // another machine (a phone, a classmate's PC) knows why they do not count.
    const elsewhere = all.some((x) => !yours(x))
      ? {
          fr: ` (les requêtes venues d'une autre adresse que celles où votre compte s'est connecté, ${[...from].join(', ')}, ne comptent pas)`,
          en: ` (requests from another address than those your account logged in from, ${[...from].join(', ')}, do not count)`,
        }
      : { fr: '', en: '' };
    const todo = (text: { fr: string; en: string }) => ({
      fr: text.fr + elsewhere.fr,
      en: text.en + elsewhere.en,
    });
    return [
      checkItem(
        'not-found-404',
        http.some((x) => x.status === 404),
        {
          fr: `une page introuvable demandée sous ${home} (404)`,
          en: `a page that does not exist asked for under ${home} (404)`,
        },
        todo({
          fr: `aucune réponse 404 sous ${home} encore : demandez une page de votre site qui n'existe pas`,
          en: `no 404 answer under ${home} yet: ask for a page of your site that does not exist`,
        }),
      ),
      checkItem(
        'bad-request-400',
        http.some((x) => x.status === 400),
        {
          fr: `une requête incomplète pour ${home} refusée (400)`,
          en: `an incomplete request for ${home} refused (400)`,
        },
        todo({
          fr: `aucune réponse 400 à une requête pour ${home} encore : qu'est-ce qu'une requête HTTP/1.1 doit contenir ?`,
          en: `no 400 answer to a request for ${home} yet: what must an HTTP/1.1 request hold?`,
        }),
      ),
      checkItem(
        'head',
        http.some((x) => x.method === 'HEAD' && x.status !== null),
        { fr: `une requête HEAD pour ${home}`, en: `a HEAD request for ${home}` },
        todo({ fr: `aucune requête HEAD pour ${home} encore`, en: `no HEAD request for ${home} yet` }),
      ),
      checkItem(
        'https',
        https.some((x) => x.status === 200),
        { fr: `votre page ${home} obtenue en HTTPS`, en: `your page ${home} fetched over HTTPS` },
        todo({
          fr: `votre page ${home} n'a pas encore été obtenue en HTTPS (publiez-la d'abord : TP 3)`,
          en: `your page ${home} has not been fetched over HTTPS yet (publish it first: lab 3)`,
        }),
      ),
    ];
  },
};

/** One request of the transcript and the status of its answer (null: none written). */
interface Exchange {
  method: string;
  target: string;
  status: number | null;
  /** The client's address. */
  address: string;
  /** Over HTTPS. */
  tls: boolean;
}

/**
 * Requests and their answers, paired per connection in order: HTTP/1.1 answers the requests of one
 * connection in the order they came (RFC 9112 §9.3.2). The web app writes each request line, even one
 * it answers 400, before the answer's status line (apps/web/src/server.ts).
 */
export function exchanges(events: TranscriptEvent[]): Exchange[] {
  const waiting = new Map<string, Exchange[]>();
  const all: Exchange[] = [];
  for (const e of events) {
    if (e.type !== 'line') continue;
    if (e.dir === 'C') {
      const m = /^([A-Z]+) (\S+) HTTP\/\d(?:\.\d)?$/.exec(e.line);
      if (!m) continue;
      const x: Exchange = {
        method: m[1]!,
        target: m[2]!,
        status: null,
        address: hostOfEndpoint(e.peer),
        tls: e.service === 'https',
      };
      all.push(x);
      waiting.set(e.session, [...(waiting.get(e.session) ?? []), x]);
    } else {
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(e.line);
      const x = m ? waiting.get(e.session)?.shift() : undefined;
      if (x) x.status = Number(m![1]);
    }
  }
  return all;
}

/** Whether a request target is /~user or under /~user/ (%7E for ~ too: RFC 3986 §2.3). */
export function underUserDir(target: string, user: string): boolean {
  let pathname = target.split('?')[0]!;
  try {
    pathname = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  return pathname === `/~${user}` || pathname.startsWith(`/~${user}/`);
}

/** GET / over TLS; resolves with the status line, rejects with why the certificate was refused. */
function tlsGet(host: string, port: number, options: { ca?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    // The certificate is made for the lab's address (subjectAltName IP), so check it against that.
    const socket = tlsConnect({ host, port, servername: '', ...options }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`no answer from ${host} port ${port} in 10 s: is the lab running there?`)),
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`${err.code ?? ''} ${err.message}`.trim())),
    );
  });
}
