import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { waitFor } from '@portlab/testkit';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, labCa, type MailLab, startMailLab, transcriptOf } from './helpers.js';

let mail: MailLab;
let ports: MailLab['lab']['ports'];

beforeAll(async () => {
  // A small SIZE limit, so the oversized-message test sends kilobytes, not megabytes.
  mail = await startMailLab({ mail: { maxMessageBytes: 4096, requireTlsForAuth: false } });
  ports = mail.lab.ports;
});
afterAll(() => mail.stop());

const newest = (user: string) => readFileSync(mail.files(user).sort().at(-1)!);
const subjectsOf = (user: string) =>
  mail.files(user).map((f) => /Subject: (.*)/.exec(readFileSync(f, 'utf8'))?.[1]);

describe('nodemailer on the three SMTP ports', () => {
  it('delivers over the MX port (8025) without AUTH, upgrading with STARTTLS', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.smtp,
      requireTLS: true,
      tls: { ca: labCa(mail.lab), servername: 'localhost' },
    });
    const info = await transport.sendMail({
      from: 'someone@example.org',
      to: 'bob@lab.test',
      subject: 'over MX',
      text: 'hello',
    });
    expect(info.response).toMatch(/^250 2.0.0 Ok: delivered to bob/);
    expect(subjectsOf('bob')).toContain('over MX');
  });

  it('delivers over submission (8587) with AUTH PLAIN after STARTTLS, to several recipients and a BCC', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.submission,
      requireTLS: true,
      auth: { user: 'alice', pass: 'wonderland', method: 'PLAIN' },
      tls: { rejectUnauthorized: false },
    });
    await transport.sendMail({
      from: 'alice@lab.test',
      to: 'bob@lab.test',
      cc: 'alice@localhost',
      bcc: 'bob@localhost',
      subject: 'to many',
      text: 'hi all',
    });
    // bob@lab.test and bob@localhost are one mailbox: one copy.
    expect(subjectsOf('bob').filter((s) => s === 'to many')).toHaveLength(1);
    expect(subjectsOf('alice')).toContain('to many');
    const stored = newest('bob').toString();
    expect(stored).not.toMatch(/^Bcc:/m);
    expect(stored).toMatch(/with ESMTPSA id/);
    // Who logged in to send it, as Postfix writes it: lab 2's check attributes the message by it.
    expect(stored).toMatch(/^Received: from [^\r]*\r\n\t\(Authenticated sender: alice\)\r\n\tby lab\.test /m);
  });

  it('delivers over SMTPS (8465, implicit TLS) with AUTH LOGIN', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.smtps,
      secure: true,
      auth: { user: 'bob@lab.test', pass: 'builder', method: 'LOGIN' },
      tls: { rejectUnauthorized: false },
    });
    await transport.sendMail({
      from: 'bob@lab.test',
      to: 'alice@lab.test',
      subject: 'over SMTPS',
      text: 'tls',
    });
    expect(subjectsOf('alice')).toContain('over SMTPS');
  });

  it('refuses mail on submission without AUTH (530) and a sender who is not the user (553)', async () => {
    const anonymous = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.submission,
      ignoreTLS: true,
    });
    await expect(
      anonymous.sendMail({ from: 'alice@lab.test', to: 'bob@lab.test', subject: 'x', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 530 });
    const alice = nodemailer.createTransport({
      host: '127.0.0.1',
      port: ports.submission,
      ignoreTLS: true,
      auth: { user: 'alice', pass: 'wonderland' },
    });
    await expect(
      alice.sendMail({ from: 'teacher@lab.test', to: 'bob@lab.test', subject: 'x', text: 'x' }),
    ).rejects.toMatchObject({
      responseCode: 553,
      response: expect.stringContaining('you are logged in as alice'),
    });
  });
});

describe('typed by hand', () => {
  it('takes a dialog with bare LF line ends and lower-case commands; a lone "." ends DATA', async () => {
    const nc = await LineClient.connect(ports.smtp);
    expect(await nc.reply()).toMatch(/^220 lab.test ESMTP/);
    expect(await nc.command('ehlo student', '\n')).toMatch(/250 SIZE 4096/);
    expect(await nc.command('mail from:<student@example.org>', '\n')).toMatch(/^250/);
    expect(await nc.command('rcpt to:<bob@lab.test>', '\n')).toMatch(/^250/);
    expect(await nc.command('data', '\n')).toMatch(/^354/);
    const body = 'Subject: typed by hand\n\nline one\n..dot-stuffed line\n';
    for (const part of body.split(/(?<=\n)/)) nc.send(part, '');
    expect(await nc.command('.', '\n')).toMatch(/^250 2.0.0 Ok: delivered to bob as (\S+)/);
    expect(await nc.command('quit', '\n')).toMatch(/^221/);

    // The file in new/: the trace headers, then exactly the bytes sent (CRLF, the dot unstuffed).
    const [, id] = /as (\S+)$/.exec(
      transcriptOf(mail.lab, 'smtp').findLast((e) => e.line?.startsWith('250 2.0.0'))!.line!,
    )!;
    const file = mail.files('bob').find((f) => f.endsWith(`/new/${id}`))!;
    const stored = readFileSync(file, 'utf8');
    const [trace, message] = [
      stored.slice(0, stored.indexOf('Subject:')),
      stored.slice(stored.indexOf('Subject:')),
    ];
    expect(message).toBe('Subject: typed by hand\r\n\r\nline one\r\n.dot-stuffed line\r\n');
    expect(trace).toMatch(
      /^Return-Path: <student@example.org>\r\nReceived: from student \(\[127.0.0.1\]\)\r\n\tby lab.test \(portlab\) with ESMTP id \S+\r\n\tfor <bob@lab.test>;\r\n\t\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/,
    );
  });

  it('writes the dialog to the transcript: AUTH lines flagged, STARTTLS flagged, the body summarized', async () => {
    const nc = await LineClient.connect(ports.submission);
    await nc.reply();
    await nc.command('EHLO student');
    expect(await nc.command('STARTTLS')).toMatch(/^220/);
    await nc.startTls();
    await nc.command('EHLO student');
    const plain = Buffer.from('\0alice\0wonderland').toString('base64');
    expect(await nc.command(`AUTH PLAIN ${plain}`)).toMatch(/^235/);
    await nc.command('MAIL FROM:<alice@lab.test>');
    await nc.command('RCPT TO:<bob@lab.test>');
    await nc.command('DATA');
    expect(await nc.command('Subject: logged\r\n\r\nsecret body\r\n.')).toMatch(/^250/);
    await nc.command('QUIT');
    const session = transcriptOf(mail.lab, 'submission').findLast(
      (e) => e.line === `AUTH PLAIN ${plain}`,
    )!.session;
    await waitFor(
      () => transcriptOf(mail.lab, 'submission').some((e) => e.session === session && e.type === 'close'),
      {
        what: 'the session to close in the transcript',
      },
    );
    const lines = transcriptOf(mail.lab, 'submission').filter(
      (e) => e.session === session && e.type === 'line',
    );
    expect(lines.find((e) => e.line === '220 Ready to start TLS')!.flags).toEqual(['tls']);
    expect(lines.find((e) => e.line === `AUTH PLAIN ${plain}`)!.flags).toEqual(['credentials']);
    expect(lines.find((e) => e.flags?.includes('summary'))!.line).toBe(
      '<message: 32 octets, Subject: logged>',
    );
    expect(lines.some((e) => e.line?.includes('secret body'))).toBe(false);
    expect(lines.at(-1)!.line).toBe('221 Bye');
  });
});

describe('bad input', () => {
  it('unknown local user: 550', async () => {
    const nc = await LineClient.connect(ports.smtp);
    await nc.reply();
    await nc.command('HELO student');
    await nc.command('MAIL FROM:<a@example.org>');
    expect(await nc.command('RCPT TO:<nobody@lab.test>')).toBe(
      '550 5.1.1 <nobody@lab.test>: no such user here',
    );
    nc.close();
  });

  it('relay attempt to another domain: 550 that says this is a lab server', async () => {
    const nc = await LineClient.connect(ports.smtp);
    await nc.reply();
    await nc.command('HELO student');
    await nc.command('MAIL FROM:<bob@lab.test>');
    expect(await nc.command('RCPT TO:<someone@gmail.com>')).toMatch(
      /^550 5.7.1 <someone@gmail.com>: relaying denied. portlab is a lab server, not an open relay/,
    );
    nc.close();
  });

  it('oversized message: 552, nothing stored', async () => {
    const before = mail.files('bob').length;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: ports.smtp, ignoreTLS: true });
    await expect(
      transport.sendMail({
        from: 'a@example.org',
        to: 'bob@lab.test',
        subject: 'big',
        text: 'x'.repeat(8000),
      }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(mail.files('bob')).toHaveLength(before);
  });

  it('wrong password: 535, after a delay that grows with each failure from the address', async () => {
    const nc = await LineClient.connect(ports.submission);
    await nc.reply();
    await nc.command('EHLO student');
    const wrong = Buffer.from('\0alice\0guess').toString('base64');
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      expect(await nc.command(`AUTH PLAIN ${wrong}`)).toBe(
        '535 5.7.8 Authentication failed: wrong user name or password',
      );
      delays.push(Date.now() - started);
    }
    // LoginThrottle: 250 ms, then 500 ms, then 1 s (lower bounds: a slow machine only adds).
    expect(delays[2]).toBeGreaterThanOrEqual(1000);
    const right = Buffer.from('\0alice\0wonderland').toString('base64');
    expect(await nc.command(`AUTH PLAIN ${right}`)).toMatch(/^235/);
    nc.close();
  });

  it('garbage and over-long command lines: 500/501, and the session goes on', async () => {
    const nc = await LineClient.connect(ports.smtp);
    await nc.reply();
    expect(await nc.command('HELLO THERE')).toBe('500 Error: command not recognized');
    expect(await nc.command('\x01\x02\xff binary junk')).toMatch(/^500/);
    expect(await nc.command('EHLO')).toMatch(/^501/);
    expect(await nc.command('HELO student')).toMatch(/^250/);
    expect(await nc.command('MAIL FROM:not-an-address')).toMatch(/^501/);
    expect(await nc.command(`NOOP ${'x'.repeat(100_000)}`)).toMatch(/^500 Error: line too long/);
    expect(await nc.command('MAIL FROM:<a@example.org>')).toMatch(/^250/);
    expect(await nc.command('RCPT TO:<bob@lab.test>')).toMatch(/^250/);
    expect(await nc.command('DATA')).toMatch(/^354/);
    expect(await nc.command('Subject: after garbage\r\n\r\nstill fine\r\n.')).toMatch(/^250/);
    nc.close();
  });

  it('a client that talks before the 220 greeting: 421 You talk too soon, and the connection closes', async () => {
    // Written before the connection is even up: Node sends it right behind the handshake, as a
    // spam robot (or curl, or lines pasted into nc) does (RFC 5321 §3.1: the server speaks first).
    const socket = tcpConnect(ports.smtp, '127.0.0.1');
    socket.write('EHLO robot\r\nMAIL FROM:<spam@example.org>\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toBe('421 lab.test You talk too soon\r\n');
  });

  it('a client that disconnects in the middle of DATA: nothing stored', async () => {
    const before = mail.files('bob').length;
    const nc = await LineClient.connect(ports.smtp);
    await nc.reply();
    await nc.command('HELO student');
    await nc.command('MAIL FROM:<a@example.org>');
    await nc.command('RCPT TO:<bob@lab.test>');
    await nc.command('DATA');
    nc.send('Subject: cut short\r\n\r\nhalf a message');
    await new Promise((resolve) => setTimeout(resolve, 100));
    nc.close();
    // Another session on the same server proves the first one is over and done with.
    const check = await LineClient.connect(ports.smtp);
    await check.reply();
    expect(await check.command('NOOP')).toMatch(/^250/);
    check.close();
    expect(mail.files('bob')).toHaveLength(before);
    expect(subjectsOf('bob')).not.toContain('cut short');
  });
});

describe('config.mail.requireTlsForAuth', () => {
  it('refuses AUTH before STARTTLS, accepts it after', async () => {
    const strict = await startMailLab({ mail: { maxMessageBytes: 4096, requireTlsForAuth: true } });
    try {
      const nc = await LineClient.connect(strict.lab.ports.submission);
      await nc.reply();
      await nc.command('EHLO student');
      const plain = Buffer.from('\0alice\0wonderland').toString('base64');
      expect(await nc.command(`AUTH PLAIN ${plain}`)).toMatch(
        /^538 Error: Must issue a STARTTLS command first/,
      );
      await nc.command('STARTTLS');
      await nc.startTls();
      await nc.command('EHLO student');
      expect(await nc.command(`AUTH PLAIN ${plain}`)).toMatch(/^235/);
      nc.close();
    } finally {
      await strict.stop();
    }
  });
});
