import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, RawClient, startImapLab } from './helpers.js';

/**
 * LIST-EXTENDED (RFC 5258) and LSUB (RFC 3501 §6.3.9) over subscriptions: Work.plans is not
 * subscribed but its child Work.plans.q1 is; Work.tmp was subscribed, then deleted.
 */
let lab: ImapLab;
let c: RawClient;

beforeAll(async () => {
  lab = await startImapLab();
  c = await RawClient.loggedIn(lab.port);
  for (const name of ['Work', 'Work.notes', 'Work.plans', 'Work.plans.q1', 'Work.plans.q2', 'Work.tmp'])
    expect(await c.command('c', `CREATE ${name}`)).toMatch(/^c OK/m);
  for (const name of ['Work.notes', 'Work.plans.q1', 'Work.tmp'])
    expect(await c.command('s', `SUBSCRIBE ${name}`)).toMatch(/^s OK/m);
  expect(await c.command('d', 'DELETE Work.tmp')).toMatch(/^d OK/m);
});
afterAll(async () => {
  c.close();
  await lab.stop();
});

/** The untagged LIST or LSUB lines of a command, in order; fails unless it ends in OK. */
async function lines(command: string): Promise<string[]> {
  const answer = await c.command('q', command);
  expect(answer).toMatch(/^q OK/m);
  return answer.split('\r\n').filter((line) => /^\* (LIST|LSUB) /.test(line));
}

describe('LIST-EXTENDED options (RFC 5258 §3)', () => {
  it('answers BAD to an unknown selection or return option, and to RECURSIVEMATCH on its own', async () => {
    expect(await c.command('b1', 'LIST (FANCY) "" "*"')).toMatch(/^b1 BAD/m);
    expect(await c.command('b2', 'LIST (RECURSIVEMATCH) "" "*"')).toMatch(/^b2 BAD/m);
    expect(await c.command('b3', 'LIST (RECURSIVEMATCH REMOTE) "" "*"')).toMatch(/^b3 BAD/m);
    expect(await c.command('b4', 'LIST "" "*" RETURN (FANCY)')).toMatch(/^b4 BAD/m);
    expect(await c.command('b5', 'LIST (REMOTE) "" "%"')).toMatch(/^b5 OK/m);
  });

  it('(SUBSCRIBED) lists a subscribed name whose mailbox is gone, \\NonExistent (§3.1)', async () => {
    expect(await lines('LIST (SUBSCRIBED) "" Work.*')).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "." Work.notes',
      '* LIST (\\HasNoChildren \\Subscribed) "." Work.plans.q1',
      '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "." Work.tmp',
    ]);
  });

  it('(SUBSCRIBED RECURSIVEMATCH) gives CHILDINFO to a parent whose subscribed child the pattern does not reach (§3.5)', async () => {
    expect(await lines('LIST (SUBSCRIBED RECURSIVEMATCH) "" Work.% RETURN (CHILDREN)')).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "." Work.notes',
      '* LIST (\\HasChildren) "." Work.plans ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "." Work.tmp',
    ]);
  });

  it('(SUBSCRIBED RECURSIVEMATCH) does not return the parent when the subscribed child is returned itself', async () => {
    expect(await lines('LIST (SUBSCRIBED RECURSIVEMATCH) "" (Work.plans Work.plans.q1)')).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "." Work.plans.q1',
    ]);
  });
});

describe('LSUB (RFC 3501 §6.3.9)', () => {
  it('lists a subscribed name without a mailbox, and a parent of a subscribed name as \\Noselect under "%"', async () => {
    expect(await lines('LSUB "" Work.%')).toEqual([
      '* LSUB () "." Work.notes',
      '* LSUB (\\Noselect) "." Work.plans',
      '* LSUB (\\Noselect) "." Work.tmp',
    ]);
    expect(await lines('LSUB "" Work.*')).toEqual([
      '* LSUB () "." Work.notes',
      '* LSUB () "." Work.plans.q1',
      '* LSUB (\\Noselect) "." Work.tmp',
    ]);
  });
});
