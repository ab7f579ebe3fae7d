/**
 * Sending a file with HTTP Range requests (RFC 9110 §14): a client may ask for part of a file, and
 * a BitTorrent client fetches a piece from a web seed (BEP 19) exactly so. Every file the web app
 * serves from disk goes through here (/~user/ pages, /updates/), and @fastify/static's `send`
 * answers the same way for /lab/:
 * - one satisfiable range: `206 Partial Content` with `Content-Range: bytes first-last/length`;
 * - no satisfiable range (past the end, or malformed): `416 Range Not Satisfiable` with
 *   `Content-Range: bytes *\/length` (§15.5.17);
 * - several ranges: the whole file, `200` (§14.2 lets a server ignore Range; one answer kind keeps
 *   it simple, and `send` does the same);
 * - a Range header in another unit than bytes: ignored, `200` (§14.2);
 * - `If-Range` (§13.1.5): the range is sent only if the file is still the one the client saw, by
 *   its strong ETag or its exact Last-Modified date; otherwise the whole new file, `200`.
 * Before any of that, the preconditions (§13.1, evaluated in the order of §13.2.2): a browser asking
 * again for a page it holds (If-None-Match, If-Modified-Since) gets `304 Not Modified` without the
 * bytes; If-Match and If-Unmodified-Since that fail get `412 Precondition Failed`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface ByteRange {
  /** First and last byte, both included (as Content-Range writes them). */
  first: number;
  last: number;
}

/**
 * The ranges a `Range` header asks of a file of `size` bytes: null if its unit is not `bytes` (RFC
 * 9110 §14.2: such a header must be ignored), else the satisfiable ones. A range that is malformed
 * (`bytes=abc`, `bytes=9-3`) or starts past the end is dropped; with none left, the answer is 416,
 * as `send` (@fastify/static) answers: §14.2 lets a server ignore or reject an invalid range.
 */
export function parseRange(header: string, size: number): ByteRange[] | null {
  const m = /^\s*bytes=(.*)$/i.exec(header);
  if (!m) return null;
  const ranges: ByteRange[] = [];
  for (const spec of m[1]!.split(',')) {
    const r = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) continue;
    if (r[1] === '') {
      // A suffix range, "-500": the last 500 bytes (§14.1.2); "-0" asks for nothing.
      const suffix = Number(r[2]);
      if (suffix > 0 && size > 0) ranges.push({ first: Math.max(0, size - suffix), last: size - 1 });
      continue;
    }
    const first = Number(r[1]);
    const last = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (first < size && first <= last) ranges.push({ first, last });
  }
  return ranges;
}

/** A strong validator (§8.8.3) from the file's size and modification time, as nginx makes it. */
export function entityTag(size: number, mtime: Date): string {
  return `"${Math.floor(mtime.getTime() / 1000).toString(16)}-${size.toString(16)}"`;
}

/** §13.1.5: does the client's If-Range name the file as it is now? */
function ifRangeHolds(ifRange: string, etag: string, mtime: Date): boolean {
  const value = ifRange.trim();
  if (value.startsWith('W/')) return false; // a weak tag never matches (strong comparison)
  if (value.startsWith('"')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Math.floor(mtime.getTime() / 1000) * 1000;
}

/** §13.1.1, §13.1.2: does a list of entity tags (or "*") name `etag`? `strong`: §8.8.3.2's comparison. */
function tagListHas(list: string, etag: string, strong: boolean): boolean {
  if (list.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return list.split(',').some((item) => {
    const tag = item.trim();
    if (strong) return !tag.startsWith('W/') && tag === etag;
    return tag.replace(/^W\//, '') === opaque;
  });
}

/** An HTTP-date (§5.6.7) in ms, or null if it is not one (then the header is ignored, §13.1.3). */
function httpDate(value: string): number | null {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * §13.2.2: the preconditions of a request on a file with validators `etag` and `mtime`, in their
 * order; 304 or 412 when one fails, null when the request goes on. The modification time compared is
 * the one sent in Last-Modified, whole seconds.
 */
export function precondition(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  etag: string,
  mtime: Date,
): 304 | 412 | null {
  const modified = Math.floor(mtime.getTime() / 1000) * 1000;
  const ifMatch = headers['if-match'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifMatch !== undefined) {
    if (!tagListHas(String(ifMatch), etag, true)) return 412;
  } else if (ifUnmodifiedSince !== undefined) {
    const date = httpDate(String(ifUnmodifiedSince));
    if (date !== null && modified > date) return 412;
  }
  const safe = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  if (ifNoneMatch !== undefined) {
    if (tagListHas(String(ifNoneMatch), etag, false)) return safe ? 304 : 412;
  } else if (safe && ifModifiedSince !== undefined) {
    const date = httpDate(String(ifModifiedSince));
    if (date !== null && modified <= date) return 304;
  }
  return null;
}

/**
 * Sends `file`, or the part of it the request's Range asks for. `type` is its Content-Type; other
 * headers (a Content-Security-Policy) are set on `reply` before the call.
 */
export async function sendFileRanged(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  type: string,
): Promise<FastifyReply> {
  const info = await stat(file);
  return sendRanged(request, reply, info.size, info.mtime, type, (range) => createReadStream(file, range));
}

/**
 * Sends `bytes`, a whole file held in memory (its contents as `mtime` dated it), or the part the
 * request's Range asks for: the same answers as sendFileRanged, without opening the file.
 */
export function sendBytesRanged(
  request: FastifyRequest,
  reply: FastifyReply,
  bytes: Buffer,
  mtime: Date,
  type: string,
): FastifyReply {
  return sendRanged(request, reply, bytes.length, mtime, type, (range) =>
    range ? bytes.subarray(range.start, range.end + 1) : bytes,
  );
}

/** The answer for a file of `size` bytes; `body` gives its bytes, all or from start to end included. */
function sendRanged(
  request: FastifyRequest,
  reply: FastifyReply,
  size: number,
  mtime: Date,
  type: string,
  body: (range?: { start: number; end: number }) => Readable | Buffer,
): FastifyReply {
  const etag = entityTag(size, mtime);
  reply
    .type(type)
    .header('accept-ranges', 'bytes')
    .header('etag', etag)
    .header('last-modified', mtime.toUTCString());
  const failed = precondition(request.method, request.headers, etag, mtime);
  // §15.4.5: a 304 carries the validators, and no content; §15.5.13: a 412 says why.
  if (failed === 304) return reply.code(304).removeHeader('content-type').send();
  if (failed === 412) {
    return reply
      .code(412)
      .type('text/plain; charset=utf-8')
      .send('412 Precondition Failed: the file is not the one the request names\n');
  }
  const rangeHeader = request.headers.range;
  const ifRange = request.headers['if-range'];
  const wanted =
    rangeHeader && (ifRange === undefined || ifRangeHolds(String(ifRange), etag, mtime))
      ? parseRange(rangeHeader, size)
      : null;
  if (wanted && wanted.length === 0) {
    return reply
      .code(416)
      .header('content-range', `bytes */${size}`)
      .type('text/plain; charset=utf-8')
      .send(`416 Range Not Satisfiable: the file has ${size} bytes\n`);
  }
  if (wanted && wanted.length === 1) {
    const { first, last } = wanted[0]!;
    return reply
      .code(206)
      .header('content-range', `bytes ${first}-${last}/${size}`)
      .header('content-length', last - first + 1)
      .send(body({ start: first, end: last }));
  }
  return reply.header('content-length', size).send(body());
}
