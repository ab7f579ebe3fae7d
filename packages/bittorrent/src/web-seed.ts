/**
 * A BEP 19 web seed: an HTTP server holding the whole file (the torrent's `url-list`), from which a
 * downloader takes pieces by Range requests (RFC 9110 §14), as from a seed that never leaves. A
 * piece from the web is hashed like any other before it is written (torrent.ts, pieceDone).
 * - BEP 19's URL rule: for a single-file torrent, a URL ending in '/' names a folder, and the file
 *   is that URL plus the torrent's `name`; any other URL is the file itself. (Multi-file torrents,
 *   whose URL is always a folder + name + '/' + path, are not made here: metainfo.ts refuses them.)
 * - Anything but a `206` with the exact Content-Range and length asked for fails the request: the
 *   seed is left alone for a while (1 s, doubling up to a minute, or the server's Retry-After), and
 *   the piece goes back to the picker for any other source.
 */
import type { LineData, Session, Transcript } from '@portlab/transcript';
import { BLOCK_SIZE } from './wire/messages.js';

/** Piece requests in flight per web seed at once: enough to hide the round trip, few for a server. */
export const WEB_SEED_REQUESTS = 4;
const TIMEOUT_MS = 30_000;
const MAX_BACKOFF_S = 60;
const MAX_RETRY_AFTER_S = 300;

/** The file's URL from a `url-list` entry (BEP 19, single-file torrents). */
export function webSeedFileUrl(url: string, name: string): string {
  return url.endsWith('/') ? `${url}${encodeURIComponent(name)}` : url;
}

/** A web seed's answer that cannot be a piece: says what was wrong. */
export class WebSeedError extends Error {
  override name = 'WebSeedError';
  constructor(
    message: string,
    /** Seconds the server asked us to wait (a 503's Retry-After), if it did. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export class WebSeed {
  /** What a web seed is in the sources table (its client column): `portlab p2p` says it in French too. */
  static readonly CLIENT = 'web seed (HTTP, BEP 19)';
  /** How this source is named in stats, transcripts and the dashboard: "web <url>". */
  readonly address: string;
  readonly client = WebSeed.CLIENT;
  readonly fileUrl: string;
  /** Piece requests now in flight. */
  inFlight = 0;
  /** Failures in a row: the backoff doubles with each. */
  failures = 0;
  /** Not asked again before this time (ms since the epoch). */
  retryAt = 0;
  private session: Session | undefined;
  private readonly aborts = new Set<AbortController>();

  constructor(
    readonly url: string,
    name: string,
    private readonly transcript: Transcript,
  ) {
    this.address = `web ${url}`;
    this.fileUrl = webSeedFileUrl(url, name);
  }

  /** Closed: the download is over, its requests were aborted on purpose. */
  closed = false;

  /** Can take one more piece now. */
  get ready(): boolean {
    return !this.closed && this.inFlight < WEB_SEED_REQUESTS && Date.now() >= this.retryAt;
  }

  /**
   * Fetches bytes `offset`..`offset + length - 1` of the file: the piece, as blocks of BLOCK_SIZE
   * (the picker's unit). Throws WebSeedError on any answer that is not exactly that.
   */
  async fetchPiece(offset: number, length: number, fileLength: number): Promise<Buffer[]> {
    const last = offset + length - 1;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new WebSeedError('no answer in 30 s')), TIMEOUT_MS);
    try {
      let res: Response;
      try {
        res = await fetch(this.fileUrl, {
          headers: { range: `bytes=${offset}-${last}`, 'user-agent': 'portlab' },
          signal: abort.signal,
        });
      } catch (err) {
        const cause = (err as { cause?: Error }).cause?.message;
        throw new WebSeedError(`cannot reach it (${cause ?? (err as Error).message})`);
      }
      if (res.status !== 206) {
        await res.body?.cancel();
        const retry = Number(res.headers.get('retry-after'));
        const why =
          res.status === 200 ? 'it ignored the Range header (200 OK): not a web seed' : `HTTP ${res.status}`;
        throw new WebSeedError(why, Number.isFinite(retry) && retry > 0 ? retry : undefined);
      }
      // RFC 9110 §14.4: the range it sends, and the file's full length, must be the ones asked for.
      const range = res.headers.get('content-range');
      const expected = `bytes ${offset}-${last}/`;
      if (!range?.startsWith(expected) || !['*', String(fileLength)].includes(range.slice(expected.length))) {
        await res.body?.cancel();
        throw new WebSeedError(`Content-Range '${range}' instead of '${expected}${fileLength}'`);
      }
      const data = await readExactly(res, length);
      const blocks: Buffer[] = [];
      for (let at = 0; at < length; at += BLOCK_SIZE) blocks.push(data.subarray(at, at + BLOCK_SIZE));
      return blocks;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  /** A good piece: the backoff starts over. */
  succeeded(): void {
    this.failures = 0;
  }

  /** A failed request or a bad piece: wait before asking again. Returns the wait in seconds. */
  failed(retryAfter?: number): number {
    this.failures++;
    const wait = retryAfter
      ? Math.min(retryAfter, MAX_RETRY_AFTER_S)
      : Math.min(2 ** (this.failures - 1), MAX_BACKOFF_S);
    this.retryAt = Date.now() + wait * 1000;
    return wait;
  }

  /**
   * A line of this source's transcript session, opened at its first line: the downloader's side of
   * its HTTP exchanges with the web seed (the server's own transcript has each request).
   */
  heard(line: string, data?: LineData): void {
    if (!this.session) {
      const at = new URL(this.fileUrl);
      const port = Number(at.port) || (at.protocol === 'https:' ? 443 : 80);
      this.session = this.transcript.connected({ remoteAddress: at.hostname, remotePort: port });
    }
    this.session.server(line, undefined, data);
  }

  /** Aborts the requests in flight and closes the transcript session. */
  close(): void {
    this.closed = true;
    for (const abort of this.aborts) abort.abort(new WebSeedError('stopped'));
    this.session?.close();
    this.session = undefined;
  }
}

/** The body, which must be exactly `length` bytes: a longer one is cut off at once, not read on. */
async function readExactly(res: Response, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  const reader = res.body?.getReader();
  if (!reader) throw new WebSeedError('an empty answer');
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (err) {
      throw new WebSeedError(`the answer broke off after ${got} bytes (${(err as Error).message})`);
    }
    if (chunk.done) break;
    if (got + chunk.value.length > length) {
      await reader.cancel();
      throw new WebSeedError(`more than the ${length} bytes asked for`);
    }
    out.set(chunk.value, got);
    got += chunk.value.length;
  }
  if (got !== length) throw new WebSeedError(`a short answer: ${got} of ${length} bytes`);
  return out;
}
