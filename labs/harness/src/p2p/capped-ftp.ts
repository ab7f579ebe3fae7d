/**
 * The FTP half of lab 5, made fair. A BitTorrent peer here sends no faster than its upload cap (a
 * token bucket, as a home connection's uplink); the FTP server has no cap of its own. So the FTP
 * client reads through a token bucket of the same rate: the server's machine gets the same uplink
 * as each peer, and the comparison measures the design (one source against several), not the code.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { TokenBucket } from '@portlab/bittorrent';
import { type LabConfig, labConnectAddress } from '@portlab/config';

export class CappedFile extends Writable {
  bytes: number;
  private readonly fd: number;

  /** Appends to `file` from `start` bytes (a REST resume keeps what is there). */
  constructor(
    file: string,
    private readonly bucket: TokenBucket,
    start = 0,
    /** Told each write; a promise it returns holds the download (TCP backpressure) until it settles. */
    private readonly onProgress: (bytes: number) => Promise<unknown> | undefined = () => undefined,
  ) {
    super();
    this.fd = openSync(file, start > 0 ? 'a' : 'w');
    this.bytes = start;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.bucket.take(chunk.length).then(() => {
      if (this.destroyed) return done(); // the transfer failed while this chunk waited for its tokens
      writeSync(this.fd, chunk);
      this.bytes += chunk.length;
      // What onProgress returns (a promise, or nothing) holds the next write until it settles.
      void Promise.allSettled([this.onProgress(this.bytes)]).then(() => done());
    }, done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    closeSync(this.fd);
    done(err);
  }
}

/**
 * Downloads `remote` into `local` at most at `rate` bytes/s, from `start` (REST) if given; `seconds`
 * from the download command (PASV, RETR) to the last byte written.
 */
export async function cappedDownload(
  config: LabConfig,
  remote: string,
  local: string,
  options: { rate: number; start?: number; onProgress?: (bytes: number) => Promise<unknown> | undefined },
): Promise<{ bytes: number; seconds: number }> {
  let began = performance.now();
  const file = new CappedFile(local, new TokenBucket(options.rate), options.start ?? 0, options.onProgress);
  // Silence for 60 s is a dead connection (basic-ftp's timeout counts silence; a capped transfer keeps talking).
  const { Client } = await import('basic-ftp'); // when a download runs (issue #20)
  const client = new Client(60_000);
  try {
    // As bob, the demo's account: a REST the demo sends must never count as alice's exercise.
    await client.access({
      host: labConnectAddress(config),
      port: config.portOf('ftp'),
      user: 'bob',
      password: 'builder',
    });
    // The time runs from the download command to the last byte, as the dashboard's chart measures it
    // (apps/web/public/js/swarm-model.js): connecting and logging in are not the download.
    began = performance.now();
    await client.downloadTo(file, remote, options.start ?? 0);
  } catch (err) {
    const e = new Error((err as Error).message) as Error & { bytes: number };
    e.bytes = file.bytes;
    throw e;
  } finally {
    client.close();
    if (!file.destroyed) file.destroy();
  }
  return { bytes: file.bytes, seconds: (performance.now() - began) / 1000 };
}
