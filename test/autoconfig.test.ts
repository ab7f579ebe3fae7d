import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLab, startLab } from './apps.js';

/**
 * Thunderbird autoconfig against the real lab (`portlab up` on free ports): the XML names the
 * lab's ports and socket types, each server really answers that way, and a python3 client that
 * knows nothing but the XML sends a mail (smtplib) and finds it in bob's INBOX (imaplib).
 */

const hasPython = !spawnSync('python3', ['--version']).error;
if (!hasPython)
  console.warn('autoconfig python3 session skipped: python3 is missing (apt-get install python3)');

interface Server {
  direction: 'incoming' | 'outgoing';
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  authentication: string;
  username: string;
}

/** A small reader for clientConfig 1.1: each <incomingServer>/<outgoingServer> and its fields. */
function readServers(xml: string): Server[] {
  return [...xml.matchAll(/<(incoming|outgoing)Server type="([^"]+)">([\s\S]*?)<\/\1Server>/g)].map((m) => {
    const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[3]!)?.[1] ?? '';
    return {
      direction: m[1] as Server['direction'],
      type: m[2]!,
      hostname: field('hostname'),
      port: Number(field('port')),
      socketType: field('socketType'),
      authentication: field('authentication'),
      username: field('username'),
    };
  });
}

let lab: TempLab;
let up: RunningLab;
let xml: string;
let servers: Server[];

beforeAll(async () => {
  lab = await tempLab();
  up = await startLab(lab);
  const res = await fetch(`http://127.0.0.1:${lab.ports.http}/.well-known/autoconfig/mail/config-v1.1.xml`);
  expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
  xml = await res.text();
  servers = readServers(xml);
}, 120_000);

afterAll(async () => {
  await up?.stop();
  lab?.cleanup();
});

describe('Thunderbird autoconfig (clientConfig 1.1)', () => {
  it('is served the same at both paths Thunderbird asks', async () => {
    const other = await fetch(`http://127.0.0.1:${lab.ports.http}/mail/config-v1.1.xml`);
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(xml);
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<clientConfig version="1\.1">/);
    expect(xml).toContain('<emailProvider id="lab.test">');
    expect(xml).toContain('<domain>lab.test</domain>');
  });

  it("names the lab's host, ports and socket types", () => {
    const summary = servers.map((s) => `${s.direction} ${s.type} ${s.hostname}:${s.port} ${s.socketType}`);
    expect(summary).toEqual([
      `incoming imap 127.0.0.1:${lab.ports.imap} STARTTLS`,
      `incoming imap 127.0.0.1:${lab.ports.imaps} SSL`,
      `incoming pop3 127.0.0.1:${lab.ports.pop3} STARTTLS`,
      `incoming pop3 127.0.0.1:${lab.ports.pop3s} SSL`,
      `outgoing smtp 127.0.0.1:${lab.ports.submission} STARTTLS`,
      `outgoing smtp 127.0.0.1:${lab.ports.smtps} SSL`,
    ]);
    for (const s of servers) {
      expect(s.authentication).toBe('password-cleartext');
      expect(s.username).toBe('%EMAILLOCALPART%');
    }
  });

  it('each server answers on its port the way its socket type says', async () => {
    const greeting = { imap: /^\* OK/, pop3: /^\+OK/, smtp: /^220[ -]/ };
    for (const s of servers) {
      const pattern = greeting[s.type as keyof typeof greeting];
      const first = await firstLine(s);
      expect(first, `${s.type} ${s.port} ${s.socketType}`).toMatch(pattern);
    }
  });

  it.skipIf(!hasPython)(
    'python3 smtplib and imaplib, told only what the XML says, send and find a mail',
    () => {
      const smtp = servers.find((s) => s.direction === 'outgoing' && s.socketType === 'STARTTLS')!;
      const imap = servers.find((s) => s.type === 'imap' && s.socketType === 'STARTTLS')!;
      expect(python(smtp, imap, 'STARTTLS')).toMatch(/^found 1 message\(s\) in bob's INBOX/m);
    },
  );

  it.skipIf(!hasPython)('and the same over implicit TLS (SSL)', () => {
    const smtp = servers.find((s) => s.direction === 'outgoing' && s.socketType === 'SSL')!;
    const imap = servers.find((s) => s.type === 'imap' && s.socketType === 'SSL')!;
    expect(python(smtp, imap, 'SSL')).toMatch(/^found 1 message\(s\) in bob's INBOX/m);
  });
});

/** The first line a server says, over TLS from the first byte when its socket type is SSL. */
function firstLine(s: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket =
      s.socketType === 'SSL'
        ? tlsConnect({ host: s.hostname, port: s.port, rejectUnauthorized: false })
        : connect(s.port, s.hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
  });
}

/**
 * A python3 mail client configured from the XML alone: host, port, socket type and the username
 * Thunderbird would fill in (%EMAILLOCALPART%). It trusts the lab certificate, so TLS is verified.
 */
const SCRIPT = `
import imaplib, os, smtplib, ssl, sys, time
from email.message import EmailMessage

env = os.environ
ctx = ssl.create_default_context(cafile=env['LAB_CA'])
user = lambda template, email: template.replace('%EMAILLOCALPART%', email.split('@')[0]).replace('%EMAILADDRESS%', email)

msg = EmailMessage()
msg['From'] = 'alice@lab.test'
msg['To'] = 'bob@lab.test'
msg['Subject'] = env['SUBJECT']
msg.set_content('Configured from autoconfig alone.')

host, port = env['SMTP_HOST'], int(env['SMTP_PORT'])
if env['SMTP_SOCKET'] == 'SSL':
    smtp = smtplib.SMTP_SSL(host, port, context=ctx, timeout=30)
else:
    smtp = smtplib.SMTP(host, port, timeout=30)
    if env['SMTP_SOCKET'] == 'STARTTLS':
        smtp.starttls(context=ctx)
smtp.login(user(env['SMTP_USER'], 'alice@lab.test'), 'wonderland')
smtp.send_message(msg)
smtp.quit()

host, port = env['IMAP_HOST'], int(env['IMAP_PORT'])
if env['IMAP_SOCKET'] == 'SSL':
    imap = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=30)
else:
    imap = imaplib.IMAP4(host, port, timeout=30)
    if env['IMAP_SOCKET'] == 'STARTTLS':
        imap.starttls(ssl_context=ctx)
imap.login(user(env['IMAP_USER'], 'bob@lab.test'), 'builder')
for attempt in range(50):
    imap.select('INBOX')
    status, data = imap.search(None, 'SUBJECT', '"' + env['SUBJECT'] + '"')
    found = data[0].split()
    if found:
        break
    time.sleep(0.2)
imap.logout()
print(f"found {len(found)} message(s) in bob's INBOX with the subject {env['SUBJECT']}")
sys.exit(0 if found else 1)
`;

function python(smtp: Server, imap: Server, label: string): string {
  const r = spawnSync('python3', ['-c', SCRIPT], {
    encoding: 'utf8',
    timeout: 90_000,
    env: {
      ...process.env,
      LAB_CA: path.join(lab.dataDir, 'tls', 'cert.pem'),
      SUBJECT: `autoconfig ${label} ${Date.now()}`,
      SMTP_HOST: smtp.hostname,
      SMTP_PORT: String(smtp.port),
      SMTP_SOCKET: smtp.socketType,
      SMTP_USER: smtp.username,
      IMAP_HOST: imap.hostname,
      IMAP_PORT: String(imap.port),
      IMAP_SOCKET: imap.socketType,
      IMAP_USER: imap.username,
    },
  });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}
