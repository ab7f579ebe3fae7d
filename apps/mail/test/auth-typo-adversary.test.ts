import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, type MailLab, startMailLab, transcriptOf } from './helpers.js';

let mail: MailLab;

beforeAll(async () => {
  mail = await startMailLab();
});
afterAll(() => mail?.stop());

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The client lines of the session that sent `first`, once it closed. */
async function clientLines(service: string, first: string) {
  const session = () => transcriptOf(mail.lab, service).findLast((e) => e.line === first)?.session;
  await waitFor(
    () => transcriptOf(mail.lab, service).some((e) => e.session === session() && e.type === 'close'),
    { what: 'the session to close in the transcript' },
  );
  return transcriptOf(mail.lab, service).filter(
    (e) => e.session === session() && e.type === 'line' && e.dir === 'C',
  );
}

describe('a password typed after an AUTH the server refused (SMTP by hand)', () => {
  it('on the MX port, which offers no AUTH: the base64 lines are flagged credentials all the same', async () => {
    const nc = await LineClient.connect(mail.lab.ports.smtp);
    await nc.reply();
    await nc.command('EHLO student');
    // A student who took port 25 for the submission port types the AUTH LOGIN dialogue anyway.
    expect(await nc.command('AUTH LOGIN')).toMatch(/^5/);
    expect(await nc.command(b64('bob'))).toMatch(/^5/);
    expect(await nc.command(b64('builder'))).toMatch(/^5/);
    await nc.command('NOOP');
    await nc.command('QUIT');
    const lines = await clientLines('smtp', 'AUTH LOGIN');
    const flags = (line: string) => lines.find((e) => e.line === line)?.flags ?? [];
    expect(flags(b64('bob'))).toContain('credentials');
    expect(flags(b64('builder'))).toContain('credentials');
    // The next SMTP command ends it: the session's other lines are shown as they are.
    expect(flags('NOOP')).toEqual([]);
    expect(flags('QUIT')).toEqual([]);
  });

  it('on the submission port before EHLO (503): the same', async () => {
    const nc = await LineClient.connect(mail.lab.ports.submission);
    await nc.reply();
    expect(await nc.command('AUTH LOGIN')).toMatch(/^503/);
    expect(await nc.command(b64('builder'))).toMatch(/^5/);
    await nc.command('QUIT');
    const lines = await clientLines('submission', 'AUTH LOGIN');
    expect(lines.find((e) => e.line === b64('builder'))?.flags ?? []).toContain('credentials');
  });

  it('POP3: the lines after AUTH LOGIN (this server offers PLAIN) are flagged credentials', async () => {
    const pop = await LineClient.connect(mail.lab.ports.pop3);
    await pop.line();
    pop.send('AUTH LOGIN');
    expect(await pop.line()).toMatch(/^-ERR/);
    pop.send(b64('builder'));
    expect(await pop.line()).toMatch(/^-ERR/);
    pop.send('QUIT');
    await pop.line();
    const lines = await clientLines('pop3', 'AUTH LOGIN');
    expect(lines.find((e) => e.line === b64('builder'))?.flags ?? []).toContain('credentials');
    expect(lines.find((e) => e.line === 'QUIT')?.flags ?? []).toEqual([]);
  });
});
