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

/** Two sessions' views of bob's INBOX (3 messages) on a real store, following its change feed. */
async function twoViews() {
  const dir = mkdtempSync(join(tmpdir(), 'imap-quick-'));
  dirs.push(dir);
  const store = new MailStore(dir);
  for (let n = 1; n <= 3; n++) await store.deliver('bob', Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`));
  const folder = await (await store.mailbox('bob')).folder('INBOX');
  const open = async () => {
    const view = new MailboxView(folder, 'INBOX', false, await folder.snapshot(), new Set());
    store.changes.on('flags', (c: FlagChange) => view.flagsChanged(c));
    return view;
  };
  return { store, folder, mine: await open(), other: await open() };
}

const lines = (view: MailboxView) =>
  view.takeUpdates({ expunges: true, condstore: false }).map((u) => String(u[0]));

describe('NOOP, a poll that never waits behind another session’s write (MailboxView.sync quick)', () => {
  it('looks at once when the folder is free', async () => {
    const { store, mine } = await twoViews();
    await store.deliver('bob', Buffer.from('Subject: 4\r\n\r\nnew\r\n'));
    await mine.sync({ poll: true, quick: true });
    expect(lines(mine)).toEqual(['4 EXISTS', '1 RECENT']);
  });

  it('tells what it knows while a write holds the folder, and the rest at the next command', async () => {
    const { store, folder, mine, other } = await twoViews();
    await store.deliver('bob', Buffer.from('Subject: 4\r\n\r\nnew\r\n'));
    // Another session's STORE: it holds the folder's lock, a look that needs it waits behind.
    const writing = other.setFlags([1], 'add', ['\\Flagged']);
    expect(folder.busy).toBe(true);
    await mine.sync({ poll: true, quick: true });
    // Nothing waited for: no EXISTS yet, and sequence numbers are as they were.
    expect(lines(mine)).toEqual([]);
    expect(mine.exists).toBe(3);
    await writing;
    // The look went on meanwhile, and its news waits in the view for the next command's end.
    // (CHECK's look waits for it, then looks again.)
    await mine.sync({ poll: true });
    expect(lines(mine)).toEqual(['4 EXISTS', '1 RECENT', '1 FETCH (UID 1 FLAGS (\\Flagged))']);
    expect(mine.exists).toBe(4);
    expect(folder.busy).toBe(false);
  });

  it('never tells the same new message twice when looks overlap', async () => {
    const { store, mine, other } = await twoViews();
    await store.deliver('bob', Buffer.from('Subject: 4\r\n\r\nnew\r\n'));
    const writing = other.setFlags([2], 'add', ['\\Seen']);
    await mine.sync({ poll: true, quick: true });
    await mine.sync({ poll: true, quick: true });
    await Promise.all([writing, mine.sync({ poll: true }), mine.sync({ poll: true })]);
    const told = lines(mine);
    expect(told.filter((l) => l.endsWith('EXISTS'))).toEqual(['4 EXISTS']);
    expect(mine.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4]);
  });
});
