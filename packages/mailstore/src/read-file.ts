import { close, open, read } from 'node:fs';

/**
 * Reads at most `length` bytes from the start of a file: fewer if the file is shorter. They are
 * read into `into` if it is given and large enough (the result is then a view of it), else into a
 * new buffer.
 *
 * Three system calls, open, read, close, each a trip to libuv's thread pool: `readFile` makes
 * four (it asks fstat for the size first), and the FileHandle of fs/promises adds a promise and an
 * object with a finalizer per call. A SEARCH TEXT reads every message of the mailbox, so a
 * 10,000-message INBOX is 10,000 fewer trips, and about half the time (measured with
 * scripts/bench/imap.js). The callback API of node:fs is the one without those extras.
 */
export function readUpTo(file: string, length: number, into?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      const buffer = into && into.length >= length ? into : Buffer.allocUnsafe(length);
      let filled = 0;
      const done = (failure: Error | null) =>
        close(fd, (closeError) => {
          const error = failure ?? closeError;
          if (error) reject(error);
          else resolve(buffer.subarray(0, filled));
        });
      // read(2) may return fewer bytes than asked: go on until the buffer is full or the file ends.
      const more = () =>
        read(fd, buffer, filled, length - filled, filled, (readError, bytesRead) => {
          if (readError) return done(readError);
          filled += bytesRead;
          if (bytesRead === 0 || filled === length) done(null);
          else more();
        });
      if (length === 0) done(null);
      else more();
    });
  });
}
