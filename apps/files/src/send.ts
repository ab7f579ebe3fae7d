import { read } from 'node:fs';
import type { Socket } from 'node:net';
import { BufferPool } from './buffer-pool.js';

/** The size of each read(2) of the file, and of each write to the data connection. */
const CHUNK_BYTES = 1024 * 1024;
/** Buffers in turn: while one is being written to the socket, the next is read from the file. */
const BUFFERS = 2;
/**
 * Buffers kept between downloads (buffer-pool.ts): enough for 64 at once, the most a class does,
 * each holding two. Measured with 50 parallel downloads of 10 MB (`npm run bench -- ftp
 * --rows=parallel`): 0.30-0.37 s of server processor time a round with them kept, 0.44-0.56 s with
 * each download making its own; buffers of 256 KiB instead of 1 MiB cost more (0.40-0.58 s), a read
 * and a write per 256 KiB.
 */
const pool = new BufferPool(CHUNK_BYTES, 128);

/**
 * Sends a file, from `start` to its end, on a data connection, then closes the sending side: in
 * stream mode (RFC 959 §3.4.1) that close is how the client knows the file ended. Resolves once the
 * last byte was handed to the kernel; rejects if the connection breaks first.
 *
 * The same few buffers are read into and written from, over and over, and go back to a pool for
 * the next download. A stream pipeline (fs.createReadStream piped to the socket) makes a new buffer
 * for every read: for 1 GiB, a thousand 1 MiB buffers to allocate and collect, and the profile of a
 * RETR spent more time in the garbage collector than in the writes themselves. A buffer is read
 * into again only once the socket's write callback said the kernel has its bytes.
 */
export async function send(fd: number, start: number, socket: Socket): Promise<void> {
  const buffers = Array.from({ length: BUFFERS }, () => pool.take());
  const written: Promise<void>[] = buffers.map(() => Promise.resolve());
  const broken = new Promise<never>((_, reject) => {
    const fail = (err?: Error) => reject(err ?? new Error('data connection closed before the end'));
    socket.once('error', fail);
    socket.once('close', () => fail());
  });
  broken.catch(() => undefined); // Looked at only while waiting, below.
  let position = start;
  for (let turn = 0; ; turn = (turn + 1) % BUFFERS) {
    const buffer = buffers[turn]!;
    await Promise.race([written[turn], broken]);
    const bytesRead = await readAt(fd, buffer, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    written[turn] = write(socket, buffer.subarray(0, bytesRead));
    written[turn]!.catch(() => undefined); // A broken connection fails the others too: one report is enough.
  }
  await Promise.race([Promise.all(written), broken]);
  for (const buffer of buffers) pool.give(buffer); // Not on a failure: a write may still hold one.
  await Promise.race([new Promise<void>((resolve) => socket.end(resolve)), broken]);
}

/**
 * One read(2) into `buffer` at `position`, on libuv's thread pool. By file descriptor rather than a
 * FileHandle: the file was opened without leaving the event loop (jailed-fs.ts `read`), and a
 * FileHandle can only come from an open() on the thread pool, one more trip per download. `send`
 * awaits each read before anything else, so none is left running when it settles: the caller may
 * close the descriptor then.
 */
function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (err, bytesRead) =>
      err ? reject(err) : resolve(bytesRead),
    );
  });
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}
