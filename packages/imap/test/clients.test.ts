import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Imap from 'imap';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, startImapLab } from './helpers.js';

const run = promisify(execFile);
let lab: ImapLab;

const MULTIPART = Buffer.from(
  [
    'From: Carol <carol@lab.test>',
    'To: bob@lab.test',
    'Subject: =?utf-8?q?caf=C3=A9_report?=',
    'Date: Thu, 28 Nov 2024 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    'preamble',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'The =C3=A9t=C3=A9 numbers are in.',
    '--b1',
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Disposition: attachment; filename="data.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAwQ=',
    '--b1--',
    '',
  ].join('\r\n'),
);

function flow(): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: lab.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'bob', pass: 'builder' },
    logger: false,
  });
}

beforeAll(async () => {
  lab = await startImapLab();
  await lab.store.deliver('bob', message('Hello Bob', 'First message body: lighthouse.'));
  await lab.store.deliver('bob', MULTIPART);
});
afterAll(() => lab.stop());

describe('imapflow', () => {
  it('logs in, lists the folders with their special use, and opens INBOX', async () => {
    const client = flow();
    await client.connect();
    const folders = await client.list();
    expect(folders.map((f) => f.path)).toEqual(
      expect.arrayContaining(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']),
    );
    expect(folders.find((f) => f.path === 'Sent')?.specialUse).toBe('\\Sent');
    const box = await client.mailboxOpen('INBOX');
    expect(box.exists).toBe(2);
    expect(Number(box.uidValidity)).toBeGreaterThan(0);
    await client.logout();
  });

  it('fetches envelope, body structure and source, and a part by number', async () => {
    const client = flow();
    await client.connect();
    await client.mailboxOpen('INBOX');
    const messages = [];
    for await (const m of client.fetch('1:*', {
      uid: true,
      envelope: true,
      bodyStructure: true,
      source: true,
      flags: true,
    }))
      messages.push(m);
    expect(messages).toHaveLength(2);
    expect(messages[0]!.envelope!.subject).toBe('Hello Bob');
    expect(messages[0]!.envelope!.from![0]!.address).toBe('alice@lab.test');
    expect(messages[1]!.envelope!.subject).toBe('café report');
    const structure = messages[1]!.bodyStructure!;
    expect(structure.type).toBe('multipart/mixed');
    expect(structure.childNodes!.map((n) => n.type)).toEqual(['text/plain', 'application/octet-stream']);
    expect(structure.childNodes![1]!.dispositionParameters?.filename).toBe('data.bin');
    expect(messages[1]!.source!.equals(MULTIPART)).toBe(true);
    const part = await client.download(String(messages[1]!.seq), '2', { uid: false });
    const chunks: Buffer[] = [];
    for await (const chunk of part.content!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0, 1, 2, 3, 4]));
    await client.logout();
  });

  it('searches decoded headers and bodies, and sets flags', async () => {
    const client = flow();
    await client.connect();
    await client.mailboxOpen('INBOX');
    expect(await client.search({ body: 'lighthouse' }, { uid: true })).toHaveLength(1);
    expect(await client.search({ subject: 'café' })).toEqual([2]);
    expect(await client.search({ body: 'été' })).toEqual([2]);
    await client.messageFlagsAdd('1', ['\\Flagged', '$Important']);
    expect(await client.search({ flagged: true })).toEqual([1]);
    expect(await client.search({ keyword: '$Important' })).toEqual([1]);
    await client.messageFlagsRemove('1', ['\\Flagged']);
    expect(await client.search({ flagged: true })).toEqual([]);
    await client.logout();
  });

  it('appends, copies and moves with the new UIDs (UIDPLUS, MOVE)', async () => {
    const client = flow();
    await client.connect();
    await client.mailboxCreate('Work.Projects');
    const appended = await client.append(
      'Work.Projects',
      message('Drafted'),
      ['\\Seen'],
      new Date('2024-01-02T03:04:05Z'),
    );
    expect(appended).toMatchObject({ uid: 1 });
    await client.mailboxOpen('Work.Projects');
    const copied = await client.messageCopy('1', 'Drafts', { uid: true });
    expect(copied).toMatchObject({ destination: 'Drafts' });
    expect(copied ? copied.uidMap?.size : 0).toBe(1);
    const moved = await client.messageMove('1', 'Trash', { uid: true });
    expect(moved ? moved.uidMap?.size : 0).toBe(1);
    const messagesIn = async (path: string) => {
      const status = await client.status(path, { messages: true });
      return status ? status.messages : -1;
    };
    expect(await messagesIn('Work.Projects')).toBe(0);
    expect(await messagesIn('Trash')).toBe(1);
    const list = await client.list();
    expect(list.map((f) => f.path)).toEqual(expect.arrayContaining(['Work', 'Work.Projects']));
    await client.mailboxCreate('Café');
    expect((await client.list()).map((f) => f.path)).toContain('Café');
    await client.mailboxDelete('Café');
    await client.logout();
  });

  it('is told of a delivery while in IDLE (an exists event)', async () => {
    const client = flow();
    await client.connect();
    await client.mailboxOpen('INBOX');
    const before = client.mailbox ? client.mailbox.exists : 0;
    const told = new Promise<number>((resolve) =>
      client.on('exists', (data: { count: number }) => resolve(data.count)),
    );
    void client.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await lab.store.deliver('bob', message('While you were idle'));
    expect(await told).toBe(before + 1);
    await client.logout();
  });

  it('sees another session expunge a message (EXPUNGE reaches every session)', async () => {
    const [a, b] = [flow(), flow()];
    await a.connect();
    await b.connect();
    await lab.store.deliver('bob', message('to be removed'));
    await a.mailboxOpen('INBOX');
    await b.mailboxOpen('INBOX');
    const count = a.mailbox ? a.mailbox.exists : 0;
    const expunged = new Promise((resolve) => b.on('expunge', resolve));
    await a.messageDelete(String(count));
    await b.noop();
    await expunged;
    expect(b.mailbox ? b.mailbox.exists : -1).toBe(count - 1);
    await a.logout();
    await b.logout();
  });
});

describe('node-imap', () => {
  it('opens INBOX, searches and fetches a header', async () => {
    const imap = new Imap({
      user: 'bob',
      password: 'builder',
      host: '127.0.0.1',
      port: lab.port,
      tls: false,
      autotls: 'never',
    });
    await new Promise<void>((resolve, reject) => imap.once('ready', resolve).once('error', reject).connect());
    const box = await new Promise<{ messages: { total: number } }>((resolve, reject) =>
      imap.openBox('INBOX', true, (err, b) => (err ? reject(err) : resolve(b))),
    );
    expect(box.messages.total).toBeGreaterThanOrEqual(2);
    const uids = await new Promise<number[]>((resolve, reject) =>
      imap.search([['SUBJECT', 'Hello Bob']], (err, u) => (err ? reject(err) : resolve(u))),
    );
    expect(uids).toEqual([1]);
    const header = await new Promise<string>((resolve, reject) => {
      const f = imap.fetch(uids, { bodies: 'HEADER.FIELDS (SUBJECT)' });
      let text = '';
      f.on('message', (msg: NodeJS.EventEmitter) =>
        msg.on('body', (stream: NodeJS.ReadableStream) =>
          stream.on('data', (d: Buffer) => (text += d.toString())),
        ),
      );
      f.once('error', reject);
      f.once('end', () => resolve(text));
    });
    expect(header).toContain('Subject: Hello Bob');
    imap.end();
  });
});

describe('independent clients', () => {
  it("python3's imaplib logs in, selects, searches and fetches", async () => {
    const script = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', ${lab.port})
m.login('bob', 'builder')
typ, data = m.select('INBOX')
print('EXISTS', data[0].decode())
typ, data = m.search(None, 'SUBJECT', '"Hello Bob"')
print('SEARCH', data[0].decode())
typ, data = m.fetch(data[0].split()[0], '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print('FETCH', data[0][1].decode().strip())
typ, data = m.list()
print('LIST', len(data))
m.logout()
`;
    const { stdout } = await run('python3', ['-c', script]);
    expect(stdout).toMatch(/SEARCH 1\n/);
    expect(stdout).toContain('FETCH Subject: Hello Bob');
    expect(stdout).toMatch(/LIST \d+/);
  });

  it('curl imap:// lists the folders and fetches a message by UID', async () => {
    const base = `imap://127.0.0.1:${lab.port}`;
    const list = await run('curl', ['-s', '--user', 'bob:builder', `${base}/`]);
    expect(list.stdout).toContain('INBOX');
    expect(list.stdout).toContain('Sent');
    const fetched = await run('curl', ['-s', '--user', 'bob:builder', `${base}/INBOX;UID=1`]);
    expect(fetched.stdout).toContain('Subject: Hello Bob');
    expect(fetched.stdout).toContain('lighthouse');
  });
});
