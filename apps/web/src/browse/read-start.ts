import { closeSync, openSync, readSync } from 'node:fs';

/** The first `bytes` bytes of a file: a view never loads a whole large file to show its start. */
export function readStart(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
