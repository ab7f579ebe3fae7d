import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ensureLabCertificate } from '@portlab/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInto } from '../src/read-into.js';
import { receive, type Sink } from '../src/receive.js';

// In-process, over real sockets: the data connection as the STOR handler gets it (accepted with
// pauseOnConnect, as ftp-srv's passive data server does), and a client sending through loopback.

const work = mkdtempSync(path.join(tmpdir(), 'portlab-receive-'));
let certificate: { key: string; cert: string };
beforeAll(async () => {
  certificate = await ensureLabCertificate(work);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A server that hands its first accepted socket over, paused, like a passive data port. */
async function dataPort(
  secure = false,
): Promise<{ port: number; accepted: Promise<Socket>; server: Server }> {
  const server = secure
    ? tls.createServer({ ...certificate, pauseOnConnect: true })
    : createServer({ pauseOnConnect: true });
  const accepted = once(server, secure ? 'secureConnection' : 'connection').then(([s]) => s as Socket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, accepted, server };
}

async function client(port: number, secure = false): Promise<Socket> {
  const socket = secure
    ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
    : connect(port, '127.0.0.1');
  await once(socket, secure ? 'secureConnect' : 'connect');
  socket.on('error', () => undefined); // A client cut by the server sees a reset: expected here.
  return socket;
}

/** Keeps a copy of every write (the buffer given is reused); fails after `failAfter` bytes if set. */
function collector(failAfter = Number.POSITIVE_INFINITY): Sink & { bytes(): Buffer; writes: number } {
  const parts: Buffer[] = [];
  let total = 0;
  return {
    writes: 0,
    write(bytes) {
      if (total + bytes.length > failAfter) throw new Error('the sink is full');
      parts.push(Buffer.from(bytes));
      total += bytes.length;
      this.writes++;
    },
    bytes: () => Buffer.concat(parts),
  };
}

describe('receive (the bytes of an upload, from the data connection to the file)', () => {
  for (const secure of [false, true]) {
    it(`${secure ? 'TLS: copies the decrypted chunks' : 'plain TCP: reads straight into its buffer'}, every byte in order`, async () => {
      const { port, accepted, server } = await dataPort(secure);
      const body = randomBytes(3_000_000);
      const sender = await client(port, secure);
      sender.end(body);
      const socket = await accepted;
      const sink = collector();
      await receive(socket, sink);
      expect(sink.bytes().equals(body)).toBe(true);
      // Whole buffers, not one write per network chunk.
      expect(sink.writes).toBeLessThan(body.length / (64 * 1024));
      if (!secure) expect(socket.bytesRead).toBe(body.length); // What the transcript reports.
      socket.destroy();
      server.close();
    });
  }

  it('a write that fails stops the transfer with its error, and closes the connection', async () => {
    const { port, accepted, server } = await dataPort();
    const sender = await client(port);
    // Listened for from the start: the reset (3 MB were left unread) may close the sender before
    // receive() is seen to reject, and a 'close' already emitted is never emitted again.
    const senderClosed = new Promise((resolve) => sender.once('close', resolve));
    sender.write(randomBytes(4_000_000));
    const socket = await accepted;
    await expect(receive(socket, collector(1_000_000))).rejects.toThrow('the sink is full');
    await senderClosed;
    expect(socket.destroyed).toBe(true);
    server.close();
  });

  it('a data connection closed by the server in the middle (ABOR, the session gone) is not the end of the file', async () => {
    const { port, accepted, server } = await dataPort();
    const sender = await client(port);
    await new Promise((resolve) => sender.write(randomBytes(500_000), resolve));
    const socket = await accepted;
    const sink = collector();
    const received = receive(socket, sink);
    await expect.poll(() => socket.bytesRead).toBeGreaterThan(0);
    socket.destroy(); // What connector.end() comes to when the control connection closes.
    await expect(received).rejects.toThrow('data connection closed before its end');
    server.close();
  });
  it("a socket whose handle cannot read into our buffer is read by 'data' events: every byte in order", async () => {
    const { port, accepted, server } = await dataPort();
    const body = randomBytes(3_000_000);
    const sender = await client(port);
    sender.end(body);
    const socket = await accepted;
    // What a Node whose stream handles lack useUserBuffer (read-into.ts's one internal) looks like:
    // this one handle hides the method, so readInto must refuse and receive() read 'data' events.
    const handle = (socket as Socket & { _handle: object })._handle;
    Object.defineProperty(handle, 'useUserBuffer', { value: undefined });
    const target = { space: () => Buffer.alloc(1024), received: () => true };
    expect(readInto(socket, target)).toBeNull();
    const sink = collector();
    await receive(socket, sink);
    expect(sink.bytes().equals(body)).toBe(true);
    expect(socket.bytesRead).toBe(body.length);
    socket.destroy();
    server.close();
  });
});

describe('readInto (read-into.ts, the one use of a Node internal)', () => {
  it('reads a fresh accepted socket; the socket keeps its byte count, and closing it ends the reader', async () => {
    const { port, accepted, server } = await dataPort();
    const sender = await client(port);
    const socket = await accepted;
    const space = Buffer.alloc(1024);
    const got: Buffer[] = [];
    const reader = readInto(socket, {
      space: () => space,
      received: (bytes) => got.push(Buffer.from(space.subarray(0, bytes))) > 0,
    });
    expect(reader).not.toBeNull();
    reader!.resume();
    sender.write('hello');
    await expect.poll(() => Buffer.concat(got).toString()).toBe('hello');
    expect(socket.bytesRead).toBe(5);
    const readerClosed = once(reader!, 'close');
    socket.destroy();
    await readerClosed;
    server.close();
  });

  it('refuses a TLS socket and a socket already read from: their bytes would be lost', async () => {
    const target = { space: () => Buffer.alloc(1024), received: () => true };
    const secure = await dataPort(true);
    await client(secure.port, true);
    const tlsSocket = await secure.accepted;
    expect(readInto(tlsSocket, target)).toBeNull();
    tlsSocket.destroy();
    secure.server.close();

    const plain = await dataPort();
    const sender = await client(plain.port);
    const socket = await plain.accepted;
    sender.write('already read');
    await once(socket.resume(), 'data');
    expect(readInto(socket, target)).toBeNull();
    socket.destroy();
    plain.server.close();
  });
});
