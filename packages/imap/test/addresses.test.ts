import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, RawClient, startImapLab } from './helpers.js';

/**
 * Address fields as ENVELOPE gives them (RFC 3501 §7.4.2) and as SEARCH FROM / TO / CC / BCC
 * look in them (§6.4.4), from headers written in every way RFC 5322 §3.4 and §4.4 allow.
 */
let lab: ImapLab;
let c: RawClient;

const HEADERS = [
  // 1: groups, one with a quoted name holding a comma, one empty, one holding only a comment.
  [
    'From: Alice Example <alice@lab.test>',
    'To: Lab Team: ann@lab.test, "Ben, Jr." <ben@lab.test>;, Observers: ;',
    'Cc: Crew:;, Night shift: (nobody yet) ;',
  ],
  // 2: comments around the '@', and empty Sender and Reply-To.
  ['From: <carol (desk) @ (main) lab.test>', 'Sender: ', 'Reply-To: '],
  // 3: an obsolete source route.
  ['From: <@relay.lab.test:dave@lab.test>'],
  // 4: the name in a comment, an RFC 2047 name, a Bcc.
  [
    'From: erin@lab.test (Erin Example)',
    'To: =?utf-8?q?Zo=C3=AB_Quinn?= <zoe@lab.test>',
    'Bcc: Hidden Helper <helper@lab.test>',
  ],
  // 5: the null address of a bounce, bare and with a name.
  ['From: <>', 'To: Mailer Daemon <>'],
];

beforeAll(async () => {
  lab = await startImapLab();
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder('People');
  const folder = await mailbox.folder('People');
  for (const [i, fields] of HEADERS.entries()) {
    const text = [
      ...fields,
      `Subject: people ${i + 1}`,
      'Date: Mon, 3 Jun 2024 10:00:00 +0000',
      '',
      'hi',
      '',
    ];
    await folder.append(Buffer.from(text.join('\r\n')));
  }
  c = await RawClient.loggedIn(lab.port);
  expect(await c.command('l2', 'EXAMINE People')).toMatch(/\* 5 EXISTS/);
});
afterAll(async () => {
  c.close();
  await lab.stop();
});

async function envelope(seq: number): Promise<string> {
  const answer = await c.command('e', `FETCH ${seq} ENVELOPE`);
  return /^\* \d+ FETCH \(ENVELOPE (.*)\)\r\n/m.exec(answer)![1]!;
}

async function search(criteria: string): Promise<string> {
  const answer = await c.command('s', `SEARCH ${criteria}`);
  return /^\* SEARCH(.*)\r\n/m.exec(answer)![1]!.trim();
}

describe('ENVELOPE addresses (RFC 3501 §7.4.2)', () => {
  it('writes a group as (NIL NIL "name" NIL), its members, then (NIL NIL NIL NIL)', async () => {
    const to =
      '((NIL NIL "Lab Team" NIL)(NIL NIL "ann" "lab.test")("Ben, Jr." NIL "ben" "lab.test")(NIL NIL NIL NIL)' +
      '(NIL NIL "Observers" NIL)(NIL NIL NIL NIL))';
    const cc = '((NIL NIL "Crew" NIL)(NIL NIL NIL NIL)(NIL NIL "Night shift" NIL)(NIL NIL NIL NIL))';
    expect(await envelope(1)).toContain(` ${to} ${cc} NIL NIL NIL`);
  });

  it('leaves comments out of the address, and gives an empty Sender or Reply-To the From', async () => {
    const from = '((NIL NIL "carol" "lab.test"))';
    expect(await envelope(2)).toBe(
      `("Mon, 3 Jun 2024 10:00:00 +0000" "people 2" ${from} ${from} ${from} NIL NIL NIL NIL NIL)`,
    );
  });

  it('keeps a source route as the adl, and a comment after a bare address as the name', async () => {
    expect(await envelope(3)).toContain('((NIL "@relay.lab.test" "dave" "lab.test"))');
    expect(await envelope(4)).toContain('(("Erin Example" NIL "erin" "lab.test"))');
  });

  it('gives no address for a bare <>, which would read as the end of a group', async () => {
    expect(await envelope(5)).toBe(
      '("Mon, 3 Jun 2024 10:00:00 +0000" "people 5" NIL NIL NIL (("Mailer Daemon" NIL NIL NIL)) NIL NIL NIL NIL)',
    );
  });
});

describe('SEARCH FROM, TO, CC, BCC (RFC 3501 §6.4.4)', () => {
  it('finds the address as mailbox@host, whatever comments the header put in it', async () => {
    expect(await search('FROM carol@lab.test')).toBe('2');
    expect(await search('FROM desk')).toBe('');
    expect(await search('FROM DAVE@LAB')).toBe('3');
  });

  it('finds display names, decoded, group names and members, in any case', async () => {
    expect(await search('FROM "erin example"')).toBe('4');
    expect(await search('TO "zoë q"')).toBe('4');
    expect(await search('TO "lab team"')).toBe('1');
    expect(await search('TO "ben, jr"')).toBe('1');
    expect(await search('TO ann@')).toBe('1');
    expect(await search('CC "night shift"')).toBe('1');
    expect(await search('BCC helper@lab.test')).toBe('4');
    expect(await search('BCC "hidden"')).toBe('4');
  });
});
