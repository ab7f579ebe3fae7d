import { close, closeSync, open, openSync, read, readFile, readFileSync, readSync } from 'node:fs';

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

/**
 * Reads a whole file whose size is known (a message: its name's `,S=`, or read once): open, one
 * read, close, three trips to the thread pool. The read asks for one byte more than the size; a
 * read of a regular file returns fewer bytes than asked only at its end, so getting exactly the
 * size says the file is that long (readUpTo would ask once more, to hear 0). A file changed on
 * disk since its size was known (a student edited it) reads otherwise: then the size is taken from
 * fstat of the file open here, not the one known, and the file is read whole from that fd.
 * Read into `into` if it holds size + 1 bytes (the result is then a view of it).
 */
export function readKnownSize(file: string, size: number, into?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      const finish = (failure: Error | null, bytes?: Buffer) =>
        close(fd, (closeError) => {
          const error = failure ?? closeError;
          if (error) reject(error);
          else resolve(bytes!);
        });
      const buffer = into && into.length > size ? into : Buffer.allocUnsafe(size + 1);
      read(fd, buffer, 0, size + 1, 0, (readError, bytesRead) => {
        if (readError) return finish(readError);
        if (bytesRead === size) return finish(null, buffer.subarray(0, size));
        // Not the size known: readFile on the fd asks fstat of this very file, and reads to its end.
        readFile(fd, (wholeError, whole) => finish(wholeError, whole));
      });
    });
  });
}

/**
 * readKnownSize without the thread pool, for a small file (a text message of a few KB, most
 * likely in the page cache): open, read, close as three system calls on this thread. The three
 * trips to libuv's pool cost more than the copy itself: their dispatch alone was a third of the
 * CPU of a FETCH of 100 whole bodies, and each trip waits behind whatever the pool is doing (issue
 * #20). The caller bounds the bytes so read per turn of the event loop (Folder.readNow). A file
 * whose size is not the one known is read whole by the size fstat gives, as readKnownSize does.
 * Read into `into` if it holds size + 1 bytes (the result is then a view of it).
 */
export function readKnownSizeNow(file: string, size: number, into?: Buffer): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = into && into.length > size ? into : Buffer.allocUnsafe(size + 1);
    const bytesRead = readSync(fd, buffer, 0, size + 1, 0);
    if (bytesRead === size) return buffer.subarray(0, size);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
