import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, RawClient, startImapLab } from './helpers.js';

/**
 * FETCH of a whole mailbox, as a mail client's first sync asks it: answers written into buffers
 * that fill and go to the socket, literals small (copied) and large (sent as they are), header
 * fields from the header cache the second time. Every byte is checked against what was delivered.
 */
let lab: ImapLab;
const delivered: Buffer[] = [];
const COUNT = 300;

/** Message n: headers of every shape (folded, 8-bit, very long), bodies from a line to 100 KB. */
function messageNumber(n: number): Buffer {
  const header = [
    `From: Sender ${n} <s${n}@lab.test>`,
    'To: Bob <bob@lab.test>',
    n % 3 === 0 ? `Subject: folded subject ${n}\r\n\tsecond line` : `Subject: plain ${n}`,
    n % 7 === 0 ? 'X-Note: caf\u00e9 8-bit' : `X-Note: note ${n}`,
    // Longer than the 4 KB read first for a header: the whole message is read for it.
    ...(n % 50 === 0 ? [`X-Long: ${'x'.repeat(5000)}`] : []),
    `Message-ID: <m${n}@lab.test>`,
  ];
  const bodySize = n === 10 ? 100_000 : n % 40 === 0 ? 40_000 : 50 + n;
  return Buffer.concat([
    Buffer.from(`${header.join('\r\n')}\r\n\r\n`),
    Buffer.alloc(bodySize, 97 + (n % 26)),
  ]);
}

/** HEADER.FIELDS the plain way: each field (its line and the lines folded after it) whose name is asked. */
function fieldsOf(message: Buffer, names: string[], not = false): string {
  const text = message.toString('latin1');
  const header = text.slice(0, text.indexOf('\r\n\r\n') + 2);
  const fields = header.split(/\r\n(?![ \t])/).filter((f) => f !== '');
  const wanted = fields.filter((f) => names.includes(f.slice(0, f.indexOf(':')).toLowerCase()) !== not);
  return `${wanted.map((f) => `${f}\r\n`).join('')}\r\n`;
}

/** The literals of an answer, in order (RFC 3501 §4.3: `{n}` CRLF, then n bytes). */
function literals(answer: string): string[] {
  const found: string[] = [];
  const marker = /\{(\d+)\}\r\n/g;
  for (let match = marker.exec(answer); match; match = marker.exec(answer)) {
    const start = match.index + match[0].length;
    found.push(answer.slice(start, start + Number(match[1])));
    marker.lastIndex = start + Number(match[1]);
  }
  return found;
}

async function selected(): Promise<RawClient> {
  const c = await RawClient.connect(lab.port);
  await c.command('l1', 'LOGIN bob builder');
  await c.command('s1', 'SELECT INBOX');
  return c;
}

beforeAll(async () => {
  lab = await startImapLab();
  for (let n = 1; n <= COUNT; n++) {
    delivered.push(messageNumber(n));
    await lab.store.deliver('bob', delivered.at(-1)!);
  }
});
afterAll(() => lab.stop());

describe('FETCH of a whole mailbox', () => {
  it('answers the first-sync header fetch byte for byte, from disk and then from the header cache', async () => {
    const c = await selected();
    const sync = 'UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From Subject X-Note)])';
    const cold = await c.command('f1', sync);
    expect(literals(cold)).toEqual(delivered.map((m) => fieldsOf(m, ['from', 'subject', 'x-note'])));
    expect(cold).toContain(
      `* 10 FETCH (UID 10 RFC822.SIZE ${delivered[9]!.length} BODY[HEADER.FIELDS (FROM SUBJECT X-NOTE)] {`,
    );
    const warm = await c.command('f2', sync);
    expect(warm.replace(/^f2 /m, 'f1 ')).toBe(cold);
    c.close();
  });

  it('keeps field lists apart: another list, .NOT, and a partial of the cached block', async () => {
    const c = await selected();
    await c.command('w1', 'FETCH 1:* BODY.PEEK[HEADER.FIELDS (Subject)]');
    expect(literals(await c.command('f1', 'FETCH 1:* BODY.PEEK[HEADER.FIELDS (Message-ID)]'))).toEqual(
      delivered.map((m) => fieldsOf(m, ['message-id'])),
    );
    expect(literals(await c.command('f2', 'FETCH 1:* BODY.PEEK[HEADER.FIELDS.NOT (Message-ID)]'))).toEqual(
      delivered.map((m) => fieldsOf(m, ['message-id'], true)),
    );
    const partial = await c.command('f3', 'FETCH 1:* BODY.PEEK[HEADER.FIELDS.NOT (Message-ID)]<6.10>');
    expect(literals(partial)).toEqual(delivered.map((m) => fieldsOf(m, ['message-id'], true).slice(6, 16)));
    expect(partial).toContain('BODY[HEADER.FIELDS.NOT (MESSAGE-ID)]<6> {10}');
    // The block is kept whole, whatever part of it was asked.
    expect(literals(await c.command('f4', 'FETCH 1:* BODY.PEEK[HEADER.FIELDS.NOT (Message-ID)]'))).toEqual(
      delivered.map((m) => fieldsOf(m, ['message-id'], true)),
    );
    c.close();
  });

  it('sends every message whole, small ones gathered into buffers and large ones as they are', async () => {
    const c = await selected();
    const answer = await c.command('f1', 'FETCH 1:* (UID BODY.PEEK[])');
    const bodies = literals(answer);
    expect(bodies).toHaveLength(COUNT);
    // The sequence numbers of the messages that came back different (none), rather than 400 KB of diff.
    const different = bodies.flatMap((body, i) => (body === delivered[i]!.toString('latin1') ? [] : [i + 1]));
    expect(different).toEqual([]);
    expect(
      (await c.command('f2', 'FETCH 1:* (UID FLAGS)')).match(
        /^\* \d+ FETCH \(UID \d+ FLAGS \([^)]*\)\)\r\n/gm,
      ),
    ).toHaveLength(COUNT);
    c.close();
  });

  it('sends every byte right to a client that reads late, and again to one that reads at once', async () => {
    // Bodies of up to 30 KB (read into memory FETCH uses again batch after batch, and copied into
    // the writer's buffers), each of its own bytes: 3 MB, more than the kernel's socket buffers
    // hold while the client does not read, so the writer must not write again into a buffer the
    // socket has not sent yet.
    const big = Array.from({ length: 100 }, (_, n) =>
      Buffer.concat([
        Buffer.from(`From: a@lab.test\r\nSubject: big ${n}\r\n\r\n`),
        Buffer.from(Array.from({ length: 20_000 + n * 100 }, (_, i) => 33 + ((i * 7 + n * 13) % 90))),
      ]),
    );
    for (const m of big) await lab.store.deliver('alice', m);
    const c = await RawClient.loggedIn(lab.port, 'alice', 'wonderland');
    await c.command('s1', 'SELECT INBOX');
    c.socket.pause();
    c.write('f1 FETCH 1:* BODY.PEEK[]\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.socket.resume();
    for (const tag of ['f1', 'f2']) {
      const answer = tag === 'f1' ? await c.until(/^f1 OK/m) : await c.command(tag, 'FETCH 1:* BODY.PEEK[]');
      const bodies = literals(answer);
      const different = bodies.flatMap((body, i) => (body === big[i]!.toString('latin1') ? [] : [i + 1]));
      expect(bodies).toHaveLength(big.length);
      expect(different).toEqual([]);
    }
    c.close();
  });
});
