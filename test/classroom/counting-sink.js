/**
 * Where an agent's FTP download goes: nowhere, counted. Both classroom agents (student.js, lab5.js)
 * time a download without writing 10 MB per student to the disk they share with the server.
 */
import { Writable } from 'node:stream';

/** A Writable that keeps only the number of bytes written to it (`sink.bytes`). */
export function countingSink() {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      sink.bytes += chunk.length;
      done();
    },
  });
  sink.bytes = 0;
  return sink;
}
