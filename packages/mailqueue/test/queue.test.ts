/**
 * The outbound queue on disk: what is enqueued survives a restart (a new MailQueue on the same
 * folder, as after kill -9), what was half-written does not, retries keep their state, and a
 * removed entry is gone for good.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Envelope, MailQueue, retryDelay } from '../src/index.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function openQueue(): Promise<MailQueue> {
  const queue = new MailQueue(path.join(dir, 'queue'));
  await queue.open();
  return queue;
}

function envelope(queue: MailQueue, to: string[]): Envelope {
  return {
    id: queue.newId(),
    from: 'alice@pc01.lab.test',
    to,
    domain: 'pc02.lab.test',
    arrived: new Date().toISOString(),
  };
}

describe('MailQueue', () => {
  it('writes the envelope line and the message; a new queue on the folder reads them back', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    const queue = await openQueue();
    const message = Buffer.from('Subject: hi\r\n\r\nbody with\nbare LF and é\r\n');
    const entry = await queue.enqueue(envelope(queue, ['bob@pc02.lab.test']), message);
    const file = path.join(dir, 'queue', `${entry.envelope.id}.msg`);
    const [head] = readFileSync(file, 'utf8').split('\n');
    expect(JSON.parse(head!)).toEqual(entry.envelope);

    const again = await openQueue();
    expect(again.entries().map((e) => e.envelope)).toEqual([entry.envelope]);
    expect((await again.read(entry.envelope.id)).message.equals(message)).toBe(true);
  });

  it('drops what a crash left half-written in tmp/, never acknowledged', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    await openQueue();
    writeFileSync(path.join(dir, 'queue', 'tmp', 'HALF.msg'), '{"id":"HALF",');
    const queue = await openQueue();
    expect(queue.entries()).toEqual([]);
    expect(readdirSync(path.join(dir, 'queue', 'tmp'))).toEqual([]);
  });

  it('keeps the retry state and the recipients still to deliver across a restart', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    const queue = await openQueue();
    const { envelope: env } = await queue.enqueue(
      envelope(queue, ['bob@pc02.lab.test', 'zoe@pc02.lab.test']),
      Buffer.from('x'),
    );
    const state = {
      attempts: 2,
      nextAttempt: new Date(Date.now() + 60_000).toISOString(),
      lastError: '451 busy',
      to: ['zoe@pc02.lab.test'],
    };
    await queue.defer(env.id, state, true);
    const again = await openQueue();
    expect(again.get(env.id)?.state).toEqual(state);
  });

  it('an unreadable state file (malformed JSON) means: try again from the start, not a lost message', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    const queue = await openQueue();
    const { envelope: env } = await queue.enqueue(envelope(queue, ['bob@pc02.lab.test']), Buffer.from('x'));
    writeFileSync(path.join(dir, 'queue', `${env.id}.state`), '{"attempts": 3, "to": [');
    const again = await openQueue();
    expect(again.get(env.id)?.state).toMatchObject({ attempts: 0, to: ['bob@pc02.lab.test'] });
  });

  it('removes an entry for good: gone after a restart', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    const queue = await openQueue();
    const kept = await queue.enqueue(envelope(queue, ['bob@pc02.lab.test']), Buffer.from('1'));
    const sent = await queue.enqueue(envelope(queue, ['bob@pc02.lab.test']), Buffer.from('2'));
    await queue.defer(sent.envelope.id, { ...sent.state, attempts: 1 }, false);
    await queue.remove(sent.envelope.id);
    const again = await openQueue();
    expect(again.entries().map((e) => e.envelope.id)).toEqual([kept.envelope.id]);
    expect(readdirSync(path.join(dir, 'queue')).sort()).toEqual([`${kept.envelope.id}.msg`, 'tmp']);
  });

  it('refuses an entry without recipients', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-queue-'));
    const queue = await openQueue();
    await expect(queue.enqueue(envelope(queue, []), Buffer.from('x'))).rejects.toThrow(
      /at least one recipient/,
    );
  });
});

describe('retryDelay', () => {
  it('doubles from the first delay up to the maximum', () => {
    const retry = { firstDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, retry))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
