/**
 * Mail between two labs on loopback (issue 18): lab A (127.0.0.2, pca.lab.test) and lab B
 * (127.0.0.3, pcb.lab.test), each the real mail app, both with their MX on the same port (25 + the
 * offset, as in a class), and a class DNS in the test (dns2) with their A and MX records. The
 * classroom version, five labs in network namespaces, is test/classroom-mail.test.ts.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePortRange, startZoneDns, waitFor, type ZoneDns } from '@portlab/testkit';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, type MailLab, startMailLab, transcriptOf } from './helpers.js';

let dns: ZoneDns;
let a: MailLab;
let b: MailLab;
let mxPort: number;

function labConfig(host: string, domain: string) {
  return {
    host,
    domain,
    // Every lab's MX on 25 + the offset: the relay finds the port by the port rule, as in a class.
    portOffset: mxPort - 25,
    ports: { smtp: mxPort },
    mail: {
      relay: {
        dns: dns.server,
        retry: { firstDelayMs: 100, maxDelayMs: 400 },
        maxAgeSeconds: 3,
        connectTimeoutMs: 1000,
      },
    },
  };
}

beforeAll(async () => {
  mxPort = (await freePortRange(1)).from;
  dns = await startZoneDns({
    a: {
      'pca.lab.test': '127.0.0.2',
      'pcb.lab.test': '127.0.0.3',
      // A lab whose address nothing answers on: its mail is bounced after maxAgeSeconds.
      'gone.lab.test': '127.0.0.9',
      // No MX record: its A record is the mail host (RFC 5321 §5.1, the implicit MX).
      'amx.lab.test': '127.0.0.3',
    },
    mx: {
      'pca.lab.test': ['pca.lab.test'],
      'pcb.lab.test': ['pcb.lab.test'],
      'gone.lab.test': ['gone.lab.test'],
    },
  });
  // Both started at once; if one fails, the other is still stopped by afterAll (a lab left
  // running outlives the test run).
  const started = await Promise.allSettled([
    startMailLab(labConfig('127.0.0.2', 'pca.lab.test')),
    startMailLab(labConfig('127.0.0.3', 'pcb.lab.test')),
  ]);
  const [first, second] = started;
  if (first.status === 'fulfilled') a = first.value;
  if (second.status === 'fulfilled') b = second.value;
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await dns?.close();
});

const submit = (lab: MailLab, host: string) =>
  nodemailer.createTransport({
    host,
    port: lab.lab.ports.submission,
    auth: { user: 'alice', pass: 'wonderland' },
    ignoreTLS: true,
  });
const messagesOf = (lab: MailLab, user: string) => lab.files(user).map((f) => readFileSync(f, 'utf8'));
const withSubject = (lab: MailLab, user: string, subject: string) =>
  messagesOf(lab, user).filter((m) => m.includes(`Subject: ${subject}\r\n`));
/** alice at lab A sends one message to `to`, then waits for the bounce that names it (RFC 3464 Final-Recipient). */
async function bounceFor(to: string, subject: string): Promise<string> {
  await submit(a, '127.0.0.2').sendMail({ from: 'alice@pca.lab.test', to, subject, text: 'x' });
  return waitFor(() => messagesOf(a, 'alice').find((m) => m.includes(`Final-Recipient: rfc822; ${to}`)), {
    what: `the bounce for ${to}`,
  });
}
const queueFiles = (lab: MailLab) => {
  try {
    return readdirSync(path.join(lab.lab.dataDir, 'queue')).filter((f) => f.endsWith('.msg'));
  } catch {
    return [];
  }
};

describe('the relay between two labs', () => {
  it('delivers alice@pca to bob@pcb once, through the queue, a Received header at each hop', async () => {
    const info = await submit(a, '127.0.0.2').sendMail({
      from: 'alice@pca.lab.test',
      to: 'bob@pcb.lab.test',
      subject: 'hello neighbour',
      text: 'from lab A',
    });
    expect(info.response).toMatch(/^250 2.0.0 Ok: queued as [0-9A-Z]+ for bob@pcb.lab.test/);
    const [message] = await waitFor(() => {
      const found = withSubject(b, 'bob', 'hello neighbour');
      return found.length ? found : undefined;
    });
    expect(withSubject(b, 'bob', 'hello neighbour')).toHaveLength(1);
    const received = [...message!.matchAll(/^Received: ([\s\S]*?);/gm)].map((m) =>
      m[1]!.replace(/\s+/g, ' '),
    );
    // Newest first (RFC 5321 §4.4): B's MX took it from A's relay, A's submission from alice.
    expect(received[0]).toMatch(
      /^from pca\.lab\.test \(\[127\.0\.0\.2\]\) by pcb\.lab\.test \(portlab\) with ESMTP id/,
    );
    expect(received[1]).toMatch(
      /^from \S+ \(\[127\.0\.0\.1\]\) \(Authenticated sender: alice\) by pca\.lab\.test \(portlab\) with ESMTPA id [0-9A-Z]+ for <bob@pcb\.lab\.test>/,
    );
    expect(message).toMatch(/^Return-Path: <alice@pca\.lab\.test>\r\n/);
    await waitFor(() => queueFiles(a).length === 0, { what: "A's queue to empty" });
    // The relay's own dialogue, in A's transcript: our commands (C:) and B's replies (S:).
    const relay = transcriptOf(a.lab, 'relay').filter((e) => e.type === 'line');
    expect(relay).toContainEqual(
      expect.objectContaining({ dir: 'C', line: 'MAIL FROM:<alice@pca.lab.test>' }),
    );
    expect(relay).toContainEqual(expect.objectContaining({ dir: 'C', line: 'RCPT TO:<bob@pcb.lab.test>' }));
    expect(relay.some((e) => e.dir === 'S' && /^250 2.0.0 Ok: delivered to bob/.test(e.line ?? ''))).toBe(
      true,
    );
  });

  it('one message to a local user and two labs: each copy once, local at once, the others queued', async () => {
    await submit(a, '127.0.0.2').sendMail({
      from: 'alice@pca.lab.test',
      to: ['bob@pca.lab.test', 'bob@pcb.lab.test', 'alice@amx.lab.test'],
      subject: 'three ways',
      text: 'x',
    });
    expect(withSubject(a, 'bob', 'three ways')).toHaveLength(1);
    // amx.lab.test has no MX: its A record (lab B's address) takes it, and B's MX says it is not its domain.
    await waitFor(() => withSubject(b, 'bob', 'three ways').length === 1, { what: "bob@pcb's copy" });
    const bounce = await waitFor(
      () => messagesOf(a, 'alice').find((m) => m.includes('Final-Recipient: rfc822; alice@amx.lab.test')),
      { what: "the bounce for alice@amx.lab.test (B's MX refuses another domain)" },
    );
    expect(bounce).toMatch(/Status: 5\.7\.1/);
    expect(bounce).toMatch(/Diagnostic-Code: smtp; 550 5\.7\.1/);
  });

  it('refuses to relay outside the class zone (550 5.7.1 at RCPT), and another domain on the MX port', async () => {
    await expect(
      submit(a, '127.0.0.2').sendMail({
        from: 'alice@pca.lab.test',
        to: 'someone@example.com',
        subject: 'out',
        text: 'x',
      }),
    ).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringMatching(/5\.7\.1 .*class's domains/),
    });
    // The MX port takes mail for its own domain only, even for another lab of the class: no open relay.
    const client = await LineClient.connect(mxPort, { host: '127.0.0.3' });
    await client.reply();
    client.send('EHLO stranger');
    await client.reply();
    client.send('MAIL FROM:<x@example.org>');
    expect(await client.reply()).toMatch(/^250/);
    client.send('RCPT TO:<bob@pca.lab.test>');
    expect(await client.reply()).toMatch(/^550 5\.7\.1 <bob@pca\.lab\.test>: relaying denied/);
    client.send('QUIT');
    await client.reply();
    expect(queueFiles(b)).toEqual([]);
  });

  it('bounces at once a domain of the class the DNS does not know (NXDOMAIN: permanent)', async () => {
    const bounce = await bounceFor('dan@nowhere.lab.test', 'to no lab');
    expect(bounce).toMatch(/Diagnostic-Code: X-Portlab; nowhere\.lab\.test: no such domain in the DNS/);
    expect(bounce).toMatch(/Status: 5\.1\.2/);
  });

  it('bounces to the sender (RFC 3464) a message no server ever takes, after maxAgeSeconds', async () => {
    const bounce = await bounceFor('carol@gone.lab.test', 'into the void');
    expect(bounce).toMatch(/^Return-Path: <>\r\n/);
    expect(bounce).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(bounce).toMatch(
      /Content-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; pca\.lab\.test/,
    );
    expect(bounce).toMatch(/Action: failed\r\nStatus: 4\.4\.7/);
    expect(bounce).toMatch(/Subject: into the void/); // the original headers, third part
    await waitFor(() => queueFiles(a).length === 0, { what: "A's queue to empty after the bounce" });
    // Each failed attempt is in the transcript too: a connection that never opened.
    expect(transcriptOf(a.lab, 'relay').some((e) => /no connection to 127\.0\.0\.9/.test(e.line ?? ''))).toBe(
      true,
    );
  });

  it('kill -9 with mail in the queue: after the restart, delivered once, nothing lost', async () => {
    // Lab A again, with time to wait for B (maxAgeSeconds is read at start).
    const config = JSON.parse(readFileSync(a.lab.configFile, 'utf8'));
    config.mail.relay.maxAgeSeconds = 120;
    writeFileSync(a.lab.configFile, JSON.stringify(config));
    a.app.kill('SIGKILL');
    await new Promise((resolve) => a.app.once('exit', resolve));
    await a.restart();
    // B is down while A queues: connections refused, retried with backoff.
    b.app.kill('SIGTERM');
    await new Promise((resolve) => b.app.once('exit', resolve));
    const transport = submit(a, '127.0.0.2');
    for (let i = 0; i < 5; i++) {
      await transport.sendMail({
        from: 'alice@pca.lab.test',
        to: 'bob@pcb.lab.test',
        subject: `queued ${i}`,
        text: 'x',
      });
    }
    expect(queueFiles(a)).toHaveLength(5);
    a.app.kill('SIGKILL');
    await new Promise((resolve) => a.app.once('exit', resolve));
    expect(queueFiles(a)).toHaveLength(5);
    await Promise.all([a.restart(), b.restart()]);
    for (let i = 0; i < 5; i++) {
      await waitFor(() => withSubject(b, 'bob', `queued ${i}`).length > 0, { what: `queued ${i} at B` });
    }
    await waitFor(() => queueFiles(a).length === 0, { what: "A's queue to empty" });
    for (let i = 0; i < 5; i++) expect(withSubject(b, 'bob', `queued ${i}`)).toHaveLength(1);
  });
});

describe("a bounce to a sender's full mailbox", () => {
  /** Lab C (127.0.0.4), alice's mailbox small: one message of 3 kB leaves no room for a bounce. */
  let c: MailLab;
  beforeAll(async () => {
    const config = labConfig('127.0.0.4', 'pcc.lab.test');
    c = await startMailLab({ ...config, mail: { ...config.mail, quotaBytes: 4000 } } as never);
  });
  afterAll(() => c?.stop());

  const send = (to: string, subject: string, text = 'x') =>
    submit(c, '127.0.0.4').sendMail({ from: 'alice@pcc.lab.test', to, subject, text });

  it('is dropped with a line on the console (RFC 5321 §4.5.5: no bounce of a bounce), the app going on; with room, the next one comes', async () => {
    await send('alice@pcc.lab.test', 'fills the mailbox', 'x'.repeat(3000));
    expect(c.files('alice')).toHaveLength(1);
    await send('dan@nowhere.lab.test', 'bounce dropped');
    await waitFor(
      () => /the bounce to alice@pcc\.lab\.test is dropped: the mailbox of alice is full/.test(c.output),
      {
        what: 'the console line of the bounce dropped',
      },
    );
    expect(c.output).toMatch(
      /not delivered to dan@nowhere\.lab\.test; the bounce to alice@pcc\.lab\.test is dropped/,
    );
    expect(queueFiles(c)).toEqual([]);
    expect(c.files('alice')).toHaveLength(1);
    expect(c.app.exitCode).toBeNull();
    // EXPUNGE makes room (the app's own count follows it): the next bounce is delivered.
    const imap = await LineClient.connect(c.lab.ports.imap, { host: '127.0.0.4' });
    try {
      await imap.line();
      for (const [tag, command] of [
        ['i1', 'LOGIN alice wonderland'],
        ['i2', 'SELECT INBOX'],
        ['i3', 'STORE 1 +FLAGS.SILENT (\\Deleted)'],
        ['i4', 'EXPUNGE'],
      ] as const) {
        imap.send(`${tag} ${command}`);
        let line = await imap.line();
        while (!line.startsWith(`${tag} `)) line = await imap.line();
        expect(line).toMatch(new RegExp(`^${tag} OK`));
      }
    } finally {
      imap.close();
    }
    await send('dan@nowhere.lab.test', 'bounce delivered');
    const bounce = await waitFor(
      () => messagesOf(c, 'alice').find((m) => m.includes('Subject: bounce delivered')),
      {
        what: 'the bounce for "bounce delivered"',
      },
    );
    expect(bounce).toMatch(/^Return-Path: <>\r\n/);
    expect(c.files('alice')).toHaveLength(1);
  });
});
