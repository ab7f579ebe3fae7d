// APPEND against the mailbox's quota (config mail.quotaBytes): NO [OVERQUOTA] (RFC 9051 §7.1) when
// the message would pass it, nothing stored; a MULTIAPPEND (RFC 3502) counts its messages together,
// all or none; EXPUNGE makes room again. Over real sockets, the store wired as apps/mail wires it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

const QUOTA = 20_000;
let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab({ mail: { quotaBytes: QUOTA } } as never);
});
afterAll(() => lab.stop());

const literal = (body: Buffer | string) => `{${Buffer.byteLength(body)}+}\r\n${body}`;
/** A message of about `size` bytes. */
const sized = (subject: string, size: number) => message(subject, 'x'.repeat(size));

async function countIn(folder: string): Promise<number> {
  return (await (await (await lab.store.mailbox('bob')).folder(folder)).messages()).length;
}

describe('APPEND and the quota', () => {
  it('stores what fits, answers NO [OVERQUOTA] for what would pass the quota and stores none of it', async () => {
    const c = await RawClient.loggedIn(lab.port);
    expect(await c.command('a1', `APPEND Drafts ${literal(sized('fits', 8000))}`)).toMatch(
      /^a1 OK \[APPENDUID /m,
    );
    // About 8 kB used of 20: 13 kB more would pass it.
    expect(await c.command('a2', `APPEND Drafts ${literal(sized('too big', 13_000))}`)).toMatch(
      /^a2 NO \[OVERQUOTA\] the mailbox of bob is full/m,
    );
    // MULTIAPPEND: two messages of 6 kB would fit one by one, not together: none is stored.
    const two = `APPEND Sent ${literal(sized('one', 6000))} ${literal(sized('two', 6000))}`;
    expect(await c.command('a3', two)).toMatch(/^a3 NO \[OVERQUOTA\] /m);
    expect(await countIn('Drafts')).toBe(1);
    expect(await countIn('Sent')).toBe(0);
    // One of them fits.
    expect(await c.command('a4', `APPEND Sent ${literal(sized('one', 6000))}`)).toMatch(/^a4 OK /m);
    await c.command('a5', 'LOGOUT');
  });

  it('counts every folder, and takes room back at EXPUNGE', async () => {
    const c = await RawClient.loggedIn(lab.port);
    // Drafts 8 kB + Sent 6 kB: 7 kB more would pass the 20 kB, in INBOX as anywhere.
    expect(await c.command('b1', `APPEND INBOX ${literal(sized('inbox', 7000))}`)).toMatch(
      /^b1 NO \[OVERQUOTA\] /m,
    );
    expect(await c.command('b2', 'SELECT Drafts')).toMatch(/^b2 OK/m);
    expect(await c.command('b3', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).toMatch(/^b3 OK/m);
    expect(await c.command('b4', 'EXPUNGE')).toMatch(/^b4 OK/m);
    expect(await c.command('b5', `APPEND INBOX ${literal(sized('inbox', 7000))}`)).toMatch(
      /^b5 OK \[APPENDUID /m,
    );
    expect(await countIn('INBOX')).toBe(1);
    await c.command('b6', 'LOGOUT');
  });
});
