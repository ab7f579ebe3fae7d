import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, RawClient, startImapLab } from './helpers.js';

/**
 * SEARCH by date (RFC 3501 §6.4.4), "disregarding time and timezone": SENTBEFORE / SENTON /
 * SENTSINCE look at the day the Date: header names, as the sender wrote it; BEFORE / ON / SINCE
 * at the day of the internal date as FETCH INTERNALDATE shows it (in UTC here).
 */
let lab: ImapLab;
let c: RawClient;

/** Sequence number -> [Date: header or null, internal date]. */
const MESSAGES: [string | null, string][] = [
  // Late in the evening west of UTC: already the 4th in UTC, the 3rd for the sender.
  ['Mon, 3 Jun 2024 23:30:00 -0700', '2024-06-03T10:00:00Z'],
  // Just after midnight east of UTC: still the 3rd in UTC, the 4th for the sender.
  ['Tue, 4 Jun 2024 00:15:00 +1000', '2024-06-04T00:30:00+02:00'],
  ['Tue, 4 Jun 2024 12:00:00 +0000', '2024-06-04T12:00:00Z'],
  // RFC 5322 §4.3 obsolete syntax: no day of the week, a two-digit year, a comment.
  ['5 Jun 24 09:00 GMT (lab time)', '2024-06-05T23:30:00-02:00'],
  // No Date: header at all, then one that names no date: the internal date stands in.
  [null, '2024-06-04T08:00:00Z'],
  ['sometime last week', '2024-06-06T08:00:00Z'],
];

function message(date: string | null, n: number): Buffer {
  const lines = [
    'From: alice@lab.test',
    `Subject: dated ${n}`,
    ...(date ? [`Date: ${date}`] : []),
    '',
    'body',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

beforeAll(async () => {
  lab = await startImapLab();
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder('Dated');
  const folder = await mailbox.folder('Dated');
  for (const [i, [date, internal]] of MESSAGES.entries())
    await folder.append(message(date, i + 1), { internalDate: new Date(internal) });
  c = await RawClient.loggedIn(lab.port);
  expect(await c.command('l2', 'EXAMINE Dated')).toMatch(/\* 6 EXISTS/);
});
afterAll(async () => {
  c.close();
  await lab.stop();
});

async function search(criteria: string): Promise<string> {
  const answer = await c.command('s', `SEARCH ${criteria}`);
  return /^\* SEARCH(.*)\r\n/m.exec(answer)![1]!.trim();
}

describe('SEARCH by the day of the Date: header', () => {
  it('SENTBEFORE, SENTON, SENTSINCE take the day as the sender wrote it, whatever its timezone', async () => {
    expect(await search('SENTBEFORE 4-Jun-2024')).toBe('1');
    expect(await search('SENTON 3-Jun-2024')).toBe('1');
    expect(await search('SENTON 4-Jun-2024')).toBe('2 3 5');
    expect(await search('SENTSINCE 4-Jun-2024')).toBe('2 3 4 5 6');
    expect(await search('SENTSINCE 5-Jun-2024')).toBe('4 6');
  });

  it('NOT gives the other messages, those without a date among them', async () => {
    expect(await search('NOT SENTON 4-Jun-2024')).toBe('1 4 6');
    expect(await search('NOT SENTBEFORE 5-Jun-2024')).toBe('4 6');
    expect(await search('NOT SENTSINCE 4-Jun-2024')).toBe('1');
  });
});

describe('SEARCH by the day of the internal date', () => {
  it('BEFORE, ON, SINCE take the day FETCH INTERNALDATE shows', async () => {
    expect(await c.command('f1', 'FETCH 2,4 INTERNALDATE')).toMatch(
      /\* 2 FETCH \(INTERNALDATE " 3-Jun-2024 22:30:00 \+0000"\)[\s\S]*\* 4 FETCH \(INTERNALDATE " 6-Jun-2024 01:30:00 \+0000"\)/,
    );
    expect(await search('BEFORE 4-Jun-2024')).toBe('1 2');
    expect(await search('ON 4-Jun-2024')).toBe('3 5');
    expect(await search('SINCE 5-Jun-2024')).toBe('4 6');
    expect(await search('NOT ON 4-Jun-2024')).toBe('1 2 4 6');
  });
});
