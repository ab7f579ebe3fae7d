import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailLab, startMailLab } from './helpers.js';

/** Independent clients: python3's smtplib and poplib, curl. Skipped, with the reason, where missing. */
const has = (command: string) => spawnSync(command, ['--version'], { encoding: 'utf8' }).status === 0;
const python = has('python3');
const curl = has('curl');
if (!python) console.warn('interop: python3 not found, the smtplib/poplib tests are skipped');
if (!curl) console.warn('interop: curl not found, the curl tests are skipped');

let mail: MailLab;
beforeAll(async () => {
  mail = await startMailLab();
});
afterAll(() => mail.stop());

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

const subjects = (user: string) =>
  mail.files(user).map((f) => /Subject: (.*)/.exec(readFileSync(f, 'utf8'))?.[1]);

describe.skipIf(!python)("python3's smtplib and poplib", () => {
  it('smtplib sends over submission with STARTTLS and login, and over SMTPS', () => {
    const { submission, smtps } = mail.lab.ports;
    run('python3', [
      '-c',
      `
import smtplib, ssl, sys
context = ssl._create_unverified_context()
message = "From: alice@lab.test\\r\\nTo: bob@lab.test\\r\\nSubject: from smtplib\\r\\n\\r\\nhello from python\\r\\n"
with smtplib.SMTP("127.0.0.1", ${submission}) as s:
    s.starttls(context=context)
    s.login("alice", "wonderland")
    s.sendmail("alice@lab.test", ["bob@lab.test"], message)
with smtplib.SMTP_SSL("127.0.0.1", ${smtps}, context=context) as s:
    s.login("bob@lab.test", "builder")
    s.sendmail("bob@lab.test", ["alice@lab.test"], message.replace("smtplib", "smtplib over SMTPS"))
`,
    ]);
    expect(subjects('bob')).toContain('from smtplib');
    expect(subjects('alice')).toContain('from smtplib over SMTPS');
  });

  it('poplib reads the message with STLS, USER/PASS, STAT, UIDL and RETR, then over POP3S', () => {
    const { pop3, pop3s } = mail.lab.ports;
    const out = run('python3', [
      '-c',
      `
import poplib, ssl
context = ssl._create_unverified_context()
p = poplib.POP3("127.0.0.1", ${pop3})
p.stls(context=context)
p.user("bob"); p.pass_("builder")
count, size = p.stat()
print("count", count)
print("uidl", p.uidl()[1][0].decode())
print("retr", b"\\n".join(p.retr(count)[1]).decode())
p.quit()
s = poplib.POP3_SSL("127.0.0.1", ${pop3s}, context=context)
s.user("alice"); s.pass_("wonderland")
print("alice", s.stat()[0])
s.quit()
`,
    ]);
    expect(out).toMatch(/^count [1-9]/m);
    expect(out).toMatch(/^uidl 1 [0-9A-F]{16}$/m);
    expect(out).toContain('Subject: from smtplib');
    expect(out).toMatch(/^alice [1-9]/m);
  });
});

describe.skipIf(!curl)('curl smtp:// and pop3://', () => {
  it('curl sends over the MX port and over submission with --user', () => {
    const file = path.join(mail.lab.dir, 'curl-message.txt');
    writeFileSync(
      file,
      'From: alice@lab.test\r\nTo: bob@lab.test\r\nSubject: from curl\r\n\r\nhello from curl\r\n',
    );
    const { smtp, submission } = mail.lab.ports;
    run('curl', [
      '-sS',
      `smtp://127.0.0.1:${smtp}`,
      '--mail-from',
      'x@example.org',
      '--mail-rcpt',
      'bob@lab.test',
      '-T',
      file,
    ]);
    run('curl', [
      '-sS',
      `smtp://127.0.0.1:${submission}`,
      '--ssl-reqd',
      '-k',
      '--user',
      'alice:wonderland',
      '--mail-from',
      'alice@lab.test',
      '--mail-rcpt',
      'alice@lab.test',
      '-T',
      file,
    ]);
    expect(subjects('bob')).toContain('from curl');
    expect(subjects('alice')).toContain('from curl');
  });

  it('curl lists and retrieves over pop3:// (with STLS) and pop3s://', () => {
    const { pop3, pop3s } = mail.lab.ports;
    const list = run('curl', [
      '-sS',
      `pop3://127.0.0.1:${pop3}/`,
      '--ssl-reqd',
      '-k',
      '--user',
      'bob:builder',
    ]);
    expect(list).toMatch(/^1 \d+\r?$/m);
    const count = list.trim().split('\n').length;
    const message = run('curl', [
      '-sS',
      `pop3s://127.0.0.1:${pop3s}/${count}`,
      '-k',
      '--user',
      'bob:builder',
    ]);
    expect(message).toMatch(/^Return-Path: </);
    expect(message).toContain('Subject: from curl');
  });
});
