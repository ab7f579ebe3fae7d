import { renameSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { MailStore } from '@portlab/mailstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * The store keeps each folder's index between looks and reads the disk again only when new/, cur/
 * or the uidlist changed. These tests check that what other processes do still reaches a client.
 */
let lab: ImapLab;
let inboxDir: string;

beforeAll(async () => {
  lab = await startImapLab();
  inboxDir = path.join(lab.store.root, 'bob');
  await lab.store.deliver('bob', message('first'));
});
afterAll(() => lab.stop());

/** new/ and cur/ as if last changed an hour ago: the store then trusts its index of them. */
function ageDirs(): void {
  const old = Math.floor(Date.now() / 1000) - 3600;
  for (const sub of ['new', 'cur']) utimesSync(path.join(inboxDir, sub), old, old);
}

async function selected(): Promise<RawClient> {
  const client = await RawClient.connect(lab.port);
  await client.command('l1', 'LOGIN bob builder');
  await client.command('s1', 'SELECT INBOX');
  return client;
}

describe('changes made by other processes', () => {
  it("reach a selected client at its next NOOP: another portlab's delivery and flag change", async () => {
    const client = await selected();
    ageDirs();
    expect(await client.command('n0', 'NOOP')).toMatch(/^n0 OK/m);

    // Another portlab process (an SMTP server of its own, say): nothing shared but the disk.
    const other = new MailStore(lab.store.root);
    await other.deliver('bob', message('from another process'));
    expect(await client.command('n1', 'NOOP')).toMatch(/^\* 2 EXISTS\r\n[\s\S]*^n1 OK/m);

    ageDirs();
    await client.command('n2', 'NOOP');
    const inbox = await (await other.mailbox('bob')).folder('INBOX');
    await inbox.setFlags([1], 'add', ['\\Flagged']);
    // \Recent too: this session was the first to see the message.
    expect(await client.command('n3', 'NOOP')).toMatch(
      /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\)\)\r\n/m,
    );
    client.close();
  });

  it('reach the next SELECT and STATUS: a file mutt renamed to \\Seen', async () => {
    const client = await selected();
    const inbox = await (await lab.store.mailbox('bob')).folder('INBOX');
    const { id } = (await inbox.messages()).find((m) => m.uid === 2)!;
    ageDirs();
    expect(await client.command('t1', 'STATUS INBOX (UNSEEN)')).toMatch(/STATUS INBOX \(UNSEEN 2\)/);
    renameSync(path.join(inboxDir, 'new', id), path.join(inboxDir, 'cur', `${id}:2,S`));
    expect(await client.command('t2', 'STATUS INBOX (UNSEEN)')).toMatch(/STATUS INBOX \(UNSEEN 1\)/);
    await client.command('s2', 'SELECT INBOX');
    expect(await client.command('f1', 'FETCH 2 (FLAGS)')).toMatch(/^\* 2 FETCH \(FLAGS \(\\Seen\)\)/m);
    client.close();
  });
});

describe("this process's own changes", () => {
  it('reach another session at once, even with the directory mtimes put back', async () => {
    const watcher = await selected();
    const actor = await selected();
    ageDirs();
    await watcher.command('n1', 'NOOP');
    expect(await actor.command('a1', 'STORE 1 +FLAGS (\\Answered)')).toMatch(/^a1 OK/m);
    ageDirs();
    expect(await watcher.command('n2', 'NOOP')).toMatch(
      /^\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Answered[^)]*\)\)/m,
    );
    await lab.store.deliver('bob', message('delivered here'));
    ageDirs();
    expect(await watcher.command('n3', 'NOOP')).toMatch(/^\* 3 EXISTS\r\n/m);
    watcher.close();
    actor.close();
  });
});
