import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851) to the mailbox that is selected: the copies get new
 * UIDs (COPYUID, RFC 4315 §3), and MOVE then expunges the originals.
 */
let lab: ImapLab;
let c: RawClient;

beforeAll(async () => {
  lab = await startImapLab();
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder('Loop');
  const loop = await mailbox.folder('Loop');
  for (const subject of ['one', 'two', 'three']) await loop.append(message(subject));
  c = await RawClient.loggedIn(lab.port);
});
afterAll(async () => {
  c.close();
  await lab.stop();
});

/** The UIDs of the selected mailbox, in sequence order. */
async function uids(tag: string): Promise<number[]> {
  const answer = await c.command(tag, 'FETCH 1:* (UID)');
  return [...answer.matchAll(/^\* \d+ FETCH \(UID (\d+)\)/gm)].map((m) => Number(m[1]));
}

describe('COPY and MOVE to the selected mailbox', () => {
  it('MOVE: COPYUID untagged, then the EXPUNGE of the original and the EXISTS of its copy (RFC 6851 §4.3)', async () => {
    const selected = await c.command('m1', 'SELECT Loop');
    const validity = /UIDVALIDITY (\d+)/.exec(selected)![1];
    const next = Number(/UIDNEXT (\d+)/.exec(selected)![1]);
    const [first, second, third] = await uids('m2');
    const moved = await c.command('m3', 'MOVE 1 Loop');
    // Nothing before the COPYUID; RECENT may follow the EXISTS.
    expect(moved).toMatch(
      new RegExp(
        `^\\* OK \\[COPYUID ${validity} ${first} ${next}\\] moved\r\n\\* 1 EXPUNGE\r\n\\* 3 EXISTS\r\n`,
      ),
    );
    expect(moved).toMatch(/^m3 OK MOVE completed\r\n$/m);
    expect(await uids('m4')).toEqual([second, third, next]);
  });

  it('UID MOVE of every message: each gets a new UID, the originals are gone', async () => {
    const before = await uids('u1');
    const moved = await c.command('u2', `UID MOVE ${before.join(',')} Loop`);
    expect(moved).toMatch(/^u2 OK/m);
    const after = await uids('u3');
    expect(after).toHaveLength(3);
    expect(after.every((uid) => uid > Math.max(...before))).toBe(true);
  });

  it('COPY: OK [COPYUID] and the copy announced with EXISTS', async () => {
    const [first] = await uids('c1');
    const copied = await c.command('c2', 'COPY 1 Loop');
    expect(copied).toMatch(
      new RegExp(`^\\* 4 EXISTS\\r\\n[\\s\\S]*^c2 OK \\[COPYUID \\d+ ${first} \\d+\\] COPY completed`, 'm'),
    );
  });
});
