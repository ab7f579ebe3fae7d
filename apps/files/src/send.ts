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
 * `file` is the open file's descriptor, or its whole content already in memory (hot-files.ts): then
 * it is written in one call, and libuv writes it out as the client reads.
 *
 * From the descriptor, the same few buffers are read into and written from, over and over, and go
 * back to a pool for the next download. A stream pipeline (fs.createReadStream piped to the socket)
 * makes a new buffer for every read: for 1 GiB, a thousand 1 MiB buffers to allocate and collect,
 * and the profile of a RETR spent more time in the garbage collector than in the writes themselves.
 * A buffer is read into again only once the socket's write callback said the kernel has its bytes.
 * No read is left running when the promise settles: the caller may close the descriptor then.
 */
export async function send(file: number | Buffer, start: number, socket: Socket): Promise<void> {
  const broken = new Promise<never>((_, reject) => {
    const fail = (err?: Error) => reject(err ?? new Error('data connection closed before the end'));
    socket.once('error', fail);
    socket.once('close', () => fail());
  });
  broken.catch(() => undefined); // Looked at only while waiting, below.
  if (typeof file === 'number') await sendRead(file, start, socket, broken);
  else await Promise.race([write(socket, file.subarray(start)), broken]);
  await Promise.race([new Promise<void>((resolve) => socket.end(resolve)), broken]);
}

async function sendRead(fd: number, start: number, socket: Socket, broken: Promise<never>): Promise<void> {
  const buffers = Array.from({ length: BUFFERS }, () => pool.take());
  const written: Promise<void>[] = buffers.map(() => Promise.resolve());
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
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/** One read(2) into `buffer` at `position` of the file, on libuv's thread pool. */
export function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (err, bytesRead) =>
      err ? reject(err) : resolve(bytesRead),
    );
  });
}
