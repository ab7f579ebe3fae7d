import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { waitFor } from '@portlab/testkit';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, type MailLab, startMailLab, transcriptOf } from './helpers.js';

let mail: MailLab;

beforeAll(async () => {
  mail = await startMailLab();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: mail.lab.ports.smtp,
    ignoreTLS: true,
  });
  for (const subject of ['first', 'second', 'third']) {
    await transport.sendMail({
      from: 'alice@lab.test',
      to: 'bob@lab.test',
      subject,
      text: `body of ${subject}\n.starts with a dot\nline 3\nline 4`,
    });
  }
});
afterAll(() => mail.stop());

async function login(options: { tls?: boolean } = {}): Promise<LineClient> {
  const pop = await LineClient.connect(options.tls ? mail.lab.ports.pop3s : mail.lab.ports.pop3, options);
  expect(await pop.line()).toBe('+OK portlab POP3 server ready');
  pop.send('USER bob');
  expect(await pop.line()).toMatch(/^\+OK/);
  pop.send('PASS builder');
  expect(await pop.line()).toMatch(/^\+OK bob has \d+ messages \(\d+ octets\)$/);
  return pop;
}

describe('POP3 (RFC 1939) over the same INBOX', () => {
  it('answers CAPA (RFC 2449) before and after login', async () => {
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    pop.send('CAPA');
    expect(await pop.line()).toBe('+OK Capability list follows');
    expect(await pop.multiline()).toEqual(
      expect.arrayContaining(['TOP', 'UIDL', 'USER', 'SASL PLAIN', 'STLS']),
    );
    pop.close();
  });

  it('lists, retrieves (byte-stuffed), shows TOP and stable UIDLs, typed with bare LF', async () => {
    const pop = await login();
    pop.send('stat', '\n');
    expect(await pop.line()).toMatch(/^\+OK 3 \d+$/);
    pop.send('list', '\n');
    await pop.line();
    const sizes = (await pop.multiline()).map((l) => Number(l.split(' ')[1]));
    expect(sizes).toHaveLength(3);
    pop.send('retr 1', '\n');
    expect(await pop.line()).toBe(`+OK ${sizes[0]} octets`);
    const message = (await pop.multiline()).join('\r\n');
    expect(message).toMatch(/^Return-Path: <alice@lab.test>/);
    expect(message).toContain('\r\n.starts with a dot\r\n');
    expect(Buffer.byteLength(`${message}\r\n`)).toBe(sizes[0]);
    pop.send('top 2 1', '\n');
    await pop.line();
    const top = await pop.multiline();
    expect(top).toContain('Subject: second');
    expect(top.at(-1)).toBe('body of second');
    pop.send('uidl', '\n');
    await pop.line();
    const uidls = await pop.multiline();
    expect(uidls[0]).toMatch(/^1 [0-9A-F]{16}$/);
    pop.send('QUIT');
    await pop.line();

    const again = await login();
    again.send('UIDL 1');
    expect(await again.line()).toBe(`+OK ${uidls[0]}`);
    again.close();
  });

  it('logs in with AUTH PLAIN (RFC 5034), in one line and with a continuation', async () => {
    const credentials = Buffer.from('\0bob\0builder').toString('base64');
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    pop.send(`AUTH PLAIN ${credentials}`);
    expect(await pop.line()).toMatch(/^\+OK bob has/);
    pop.close();
    const two = await LineClient.connect(mail.lab.ports.pop3);
    await two.line();
    two.send('AUTH PLAIN');
    expect(await two.line()).toBe('+ ');
    two.send(credentials);
    expect(await two.line()).toMatch(/^\+OK bob has/);
    two.close();
    const flagged = transcriptOf(mail.lab, 'pop3').filter((e) => e.line?.includes(credentials));
    expect(flagged.every((e) => e.flags?.includes('credentials'))).toBe(true);
  });

  it('upgrades with STLS (RFC 2595), and speaks POP3S on 8995', async () => {
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    pop.send('STLS');
    expect(await pop.line()).toBe('+OK begin TLS negotiation');
    await pop.startTls();
    pop.send('CAPA');
    await pop.line();
    expect(await pop.multiline()).not.toContain('STLS');
    pop.send('USER bob');
    await pop.line();
    pop.send('PASS builder');
    expect(await pop.line()).toMatch(/^\+OK bob has/);
    pop.close();
    const pops = await login({ tls: true });
    pops.send('STAT');
    expect(await pops.line()).toMatch(/^\+OK \d+ \d+$/);
    pops.close();
    await waitFor(
      () =>
        transcriptOf(mail.lab, 'pop3')
          .find((e) => e.line === '+OK begin TLS negotiation')
          ?.flags?.includes('tls'),
      { what: 'the STLS reply flagged tls' },
    );
  });

  it('drops lines sent in clear text behind STLS: they never run inside TLS (RFC 2595 §4)', async () => {
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    // One segment: STLS and a command a man in the middle slipped in behind it (CVE-2011-0411).
    pop.send('STLS\r\nUSER bob');
    expect(await pop.line()).toBe('+OK begin TLS negotiation');
    await pop.startTls();
    pop.send('PASS builder');
    // Had USER bob run inside TLS, this PASS would log in as bob.
    expect(await pop.line()).toMatch(/^-ERR/);
    pop.close();
  });

  it('a dropped connection deletes nothing; DELE then QUIT deletes', async () => {
    const before = mail.files('bob').length;
    const dropped = await login();
    dropped.send('DELE 1');
    expect(await dropped.line()).toBe('+OK message 1 deleted');
    dropped.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(mail.files('bob')).toHaveLength(before);

    const pop = await login();
    pop.send('DELE 1');
    await pop.line();
    pop.send('RETR 1');
    expect(await pop.line()).toBe('-ERR message 1 already deleted');
    pop.send('RSET');
    expect(await pop.line()).toMatch(/^\+OK maildrop has 3 messages/);
    pop.send('DELE 1');
    await pop.line();
    pop.send('QUIT');
    expect(await pop.line()).toBe('+OK bye: 1 messages deleted');
    expect(mail.files('bob')).toHaveLength(before - 1);
    expect(mail.files('bob').map((f) => readFileSync(f, 'utf8'))).not.toContainEqual(
      expect.stringContaining('Subject: first'),
    );
  });

  it('answers every command of a client that sends them all and closes its side (printf | nc)', async () => {
    const socket = connect(mail.lab.ports.pop3, '127.0.0.1', () =>
      socket.end('USER bob\r\nPASS builder\r\nSTAT\r\nQUIT\r\n'),
    );
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
    });
    await new Promise((resolve) => socket.once('close', resolve));
    expect(text.split('\r\n').filter(Boolean)).toEqual([
      '+OK portlab POP3 server ready',
      expect.stringMatching(/^\+OK/), // USER
      expect.stringMatching(/^\+OK/), // PASS
      expect.stringMatching(/^\+OK \d+ \d+$/), // STAT
      expect.stringMatching(/^\+OK/), // QUIT
    ]);
  });

  it('bad input: wrong password, unknown and out-of-state commands, junk numbers, long lines', async () => {
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    pop.send('USER bob');
    await pop.line();
    pop.send('PASS wrong');
    expect(await pop.line()).toBe('-ERR [AUTH] wrong user name or password');
    pop.send('STAT');
    expect(await pop.line()).toBe('-ERR STAT is not valid before login');
    pop.send('FOO');
    expect(await pop.line()).toBe("-ERR unknown command 'FOO': CAPA lists what this server knows");
    pop.send(`NOOP ${'x'.repeat(5000)}`);
    expect(await pop.line()).toMatch(/^-ERR line too long/);
    pop.send('USER bob');
    await pop.line();
    pop.send('PASS builder');
    expect(await pop.line()).toMatch(/^\+OK/);
    for (const bad of ['RETR 99', 'RETR x', 'DELE']) {
      pop.send(bad);
      expect(await pop.line()).toMatch(/^-ERR no such message/);
    }
    pop.send('TOP 1');
    expect(await pop.line()).toBe('-ERR usage: TOP message-number lines');
    pop.send('USER bob');
    expect(await pop.line()).toBe('-ERR USER is not valid after login');
    pop.close();
  });
});
