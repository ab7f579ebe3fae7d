import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { send } from '../src/send.js';

// In-process, over real sockets: the RETR handler's side of a data connection (send.ts), and a
// client reading through loopback.

const work = mkdtempSync(path.join(tmpdir(), 'portlab-send-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A data port: resolves with the server's side of the first connection and the client's. */
async function dataConnection(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  const accepted = once(listener, 'connection').then(([s]) => s as Socket);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  client.on('error', () => undefined); // A client cut by the server sees a reset: expected here.
  const server = await accepted;
  server.on('error', () => undefined); // send() reports it through its promise.
  return { server, client, close: () => listener.close() };
}

/** Everything the client reads until the server closes the connection. */
async function readAll(client: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of client) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('send (RETR: a file on the data connection, read into reused buffers)', () => {
  // Several times the buffer's size, and not a multiple of it: every buffer is reused, the last one part full.
  const content = randomBytes(5 * 1024 * 1024 + 12345);
  const file = path.join(work, 'content.bin');
  writeFileSync(file, content);

  it('sends the whole file, byte for byte, then closes the sending side (the end of file in stream mode)', async () => {
    const { server, client, close } = await dataConnection();
    const handle = openSync(file, 'r');
    try {
      const [, received] = await Promise.all([send(handle, 0, server), readAll(client)]);
      expect(received.equals(content)).toBe(true);
    } finally {
      closeSync(handle);
      close();
    }
  });

  it('sends from the offset of a REST (RFC 3659 §5), and nothing from an offset past the end', async () => {
    const { server, client, close } = await dataConnection();
    const handle = openSync(file, 'r');
    try {
      const [, received] = await Promise.all([send(handle, 3_000_001, server), readAll(client)]);
      expect(received.equals(content.subarray(3_000_001))).toBe(true);
      const past = await dataConnection();
      const [, nothing] = await Promise.all([
        send(handle, content.length + 10, past.server),
        readAll(past.client),
      ]);
      expect(nothing.length).toBe(0);
      past.close();
    } finally {
      closeSync(handle);
      close();
    }
  });

  it('rejects, and does not hang, when the client cuts the data connection in the middle', async () => {
    const { server, client, close } = await dataConnection();
    const handle = openSync(file, 'r');
    try {
      client.once('data', () => client.destroy()); // The first bytes, then gone (a client killed mid-download).
      await expect(send(handle, 0, server)).rejects.toThrow();
    } finally {
      closeSync(handle);
      close();
    }
  });
});
