import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailStore } from '@portlab/mailstore';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxView } from '../src/mailbox-view.js';
import type { FlagChange } from '../src/storage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Two sessions' views of bob's INBOX on a real store, each following the store's change feed. */
async function twoViews() {
  const dir = mkdtempSync(join(tmpdir(), 'imap-own-'));
  dirs.push(dir);
  const store = new MailStore(dir);
  for (let n = 1; n <= 3; n++) await store.deliver('bob', Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`));
  const open = async () => {
    const folder = await (await store.mailbox('bob')).folder('INBOX');
    const view = new MailboxView(folder, 'INBOX', false, await folder.snapshot(), new Set());
    store.changes.on('flags', (c: FlagChange) => view.flagsChanged(c));
    return view;
  };
  return { mine: await open(), other: await open() };
}

const fetches = (updates: unknown[][]) => updates.map((u) => String(u[0])).filter((l) => l.includes('FETCH'));

describe("a session's own flag change", () => {
  it('is in its view at once and never comes back to it as news; another session is told', async () => {
    const { mine, other } = await twoViews();
    const changed = await mine.setFlags([1, 2], 'add', ['\\Seen']);
    expect(changed.map((m) => m.uid)).toEqual([1, 2]);
    expect(mine.byUid(1)!.flags).toEqual(['\\Seen']);
    expect(mine.hasNews).toBe(false);
    expect(fetches(mine.takeUpdates({ expunges: true, condstore: false }))).toEqual([]);
    expect(fetches(other.takeUpdates({ expunges: true, condstore: false }))).toEqual([
      '1 FETCH (UID 1 FLAGS (\\Seen))',
      '2 FETCH (UID 2 FLAGS (\\Seen))',
    ]);
  });

  it("still tells another session's change made to the same messages while its own is made", async () => {
    const { mine, other } = await twoViews();
    // Both at once: the store makes one, then the other (one change at a time per folder).
    await Promise.all([other.setFlags([3], 'add', ['\\Flagged']), mine.setFlags([2, 3], 'add', ['\\Seen'])]);
    // Message 3: the other's \Flagged came first, so this session's answer already shows both.
    expect(mine.byUid(3)!.flags.sort()).toEqual(['\\Flagged', '\\Seen']);
    expect(fetches(mine.takeUpdates({ expunges: true, condstore: false }))).toEqual([]);
    // The other session hears of this one's \Seen on 2 and 3, not of its own \Flagged.
    expect(fetches(other.takeUpdates({ expunges: true, condstore: false }))).toEqual([
      '2 FETCH (UID 2 FLAGS (\\Seen))',
      '3 FETCH (UID 3 FLAGS (\\Flagged \\Seen))',
    ]);
  });

  it('is told of a change to one of its messages made meanwhile that its own left alone', async () => {
    const { mine, other } = await twoViews();
    // Removing \Draft that no message has changes nothing in the store; the other's \Flagged on 3
    // is made while this session's change waits its turn.
    const [, changed] = await Promise.all([
      other.setFlags([3], 'add', ['\\Flagged']),
      mine.setFlags([2, 3], 'remove', ['\\Draft']),
    ]);
    expect(changed).toEqual([]);
    expect(fetches(mine.takeUpdates({ expunges: true, condstore: false }))).toEqual([
      '3 FETCH (UID 3 FLAGS (\\Flagged))',
    ]);
  });
});
