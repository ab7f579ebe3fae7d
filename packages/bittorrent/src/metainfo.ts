/**
 * Metainfo files (.torrent), BEP 3 version 1: a bencoded dictionary with the tracker's `announce`
 * URL and an `info` dictionary naming the file, its `length`, the `piece length` and the SHA-1 of
 * every piece concatenated in `pieces`. The info_hash that names the torrent everywhere (tracker,
 * handshake) is the SHA-1 of the info dictionary's exact bytes.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { BencodeError, type BencodeLimits, decode, encode, scan } from './bencode.js';

export interface Metainfo {
  announce: string;
  /** SHA-1 of the bencoded info dictionary: the torrent's identity. */
  infoHash: Buffer;
  /** The file's name (single-file torrents): a plain name, never a path. */
  name: string;
  length: number;
  pieceLength: number;
  /** One 20-byte SHA-1 per piece. */
  pieceHashes: Buffer[];
  /**
   * BEP 19 web seeds (`url-list`): HTTP servers that hold the whole file and answer Range requests,
   * a seed that is always there. Only http: and https: URLs are kept; empty when there is none.
   */
  urlList: string[];
}

/** A .torrent of a few thousand pieces is some kilobytes: 8 MiB is already generous. */
export const METAINFO_LIMITS: BencodeLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 16 };

/** BEP 3 pieces are a power of two; clients handle 16 KiB to 16 MiB. */
const MIN_PIECE = 16 * 1024;
const MAX_PIECE = 16 * 1024 * 1024;

/** A metainfo file that cannot be used: says what is wrong with it. */
export class MetainfoError extends Error {
  override name = 'MetainfoError';
}

export function parseMetainfo(bytes: Uint8Array, source = 'metainfo'): Metainfo {
  const fail = (reason: string): never => {
    throw new MetainfoError(`${source}: ${reason}`);
  };
  let root: unknown;
  let spans: ReturnType<typeof scan>;
  try {
    spans = scan(bytes, METAINFO_LIMITS);
    root = decode(bytes, METAINFO_LIMITS);
  } catch (err) {
    if (err instanceof BencodeError) fail(`not a valid .torrent file (${err.message})`);
    throw err;
  }
  if (!isDict(root)) return fail('not a .torrent file: expected a bencoded dictionary');
  const infoSpan = spans.get('info');
  const info = root.info;
  if (!infoSpan || !isDict(info)) return fail("no 'info' dictionary");
  if (info.files !== undefined) {
    fail('multi-file torrents are not supported here: make one torrent per file');
  }
  const announce = text(root.announce) ?? fail("no 'announce' URL");
  const name = text(info.name) ?? fail("no 'name' in info");
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    fail(`unsafe file name '${name}': a name must not be a path`);
  }
  const length = integer(info.length) ?? fail("no 'length' in info");
  const pieceLength = integer(info['piece length']) ?? fail("no 'piece length' in info");
  if (length < 1) fail(`length ${length}: the file must not be empty`);
  if (pieceLength < MIN_PIECE || pieceLength > MAX_PIECE) {
    fail(`piece length ${pieceLength} is outside ${MIN_PIECE}..${MAX_PIECE}`);
  }
  const pieces = info.pieces;
  if (!(pieces instanceof Uint8Array)) return fail("no 'pieces' in info");
  const count = Math.ceil(length / pieceLength);
  if (pieces.length !== count * 20) {
    fail(
      `'pieces' holds ${pieces.length} bytes; ${count} pieces need ${count * 20} (20 bytes of SHA-1 each)`,
    );
  }
  const all = Buffer.from(pieces);
  return {
    urlList: webSeeds(root['url-list']),
    announce,
    infoHash: sha1(bytes.subarray(infoSpan.start, infoSpan.end)),
    name,
    length,
    pieceLength,
    pieceHashes: Array.from({ length: count }, (_, i) => all.subarray(i * 20, i * 20 + 20)),
  };
}

/** The size of piece `index`: every piece is `pieceLength` long but the last. */
export function pieceSize(meta: Metainfo, index: number): number {
  return Math.min(meta.pieceLength, meta.length - index * meta.pieceLength);
}

/**
 * A piece length for a file: the smallest power of two from 16 KiB that keeps the torrent under
 * about 1000 pieces, so a small file still has enough pieces to come from several peers.
 */
export function choosePieceLength(fileSize: number): number {
  let size = MIN_PIECE;
  while (size < MAX_PIECE && fileSize / size > 1000) size *= 2;
  return size;
}

export interface CreateOptions {
  announce: string;
  pieceLength?: number;
  /** BEP 19 web seeds, written as `url-list`: URLs where the same file can be fetched by HTTP. */
  urlList?: string[];
}

/** Reads `file` once, hashing each piece, and returns the .torrent bytes. */
export async function createMetainfo(file: string, options: CreateOptions): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new MetainfoError(`${file}: the file is empty; a torrent needs at least one byte`);
    const pieceLength = options.pieceLength ?? choosePieceLength(size);
    const hashes: Buffer[] = [];
    const buffer = Buffer.alloc(pieceLength);
    for (let offset = 0; offset < size; offset += pieceLength) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(pieceLength, size - offset), offset);
      hashes.push(sha1(buffer.subarray(0, bytesRead)));
    }
    return encode({
      announce: options.announce,
      'created by': 'portlab',
      // BEP 19: outside `info`, so adding a web seed does not change the info_hash.
      ...(options.urlList?.length ? { 'url-list': options.urlList.map(checkWebSeed) } : {}),
      info: {
        length: size,
        name: path.basename(file),
        'piece length': pieceLength,
        pieces: Buffer.concat(hashes),
      },
    });
  } finally {
    await handle.close();
  }
}

/** The SHA-1 of `parts` one after the other: a piece is hashed block by block, where its blocks lie. */
export function sha1(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * BEP 19 `url-list`: one URL (a string) or a list of them. A URL that is not http(s) is skipped, as
 * other clients do: a torrent may list ftp: seeds this downloader cannot use.
 */
function webSeeds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(text).filter((url): url is string => url !== undefined && /^https?:\/\/[^\s]+$/i.test(url));
}

/** A web seed to write: an absolute http(s) URL, or the error says why not. */
export function checkWebSeed(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetainfoError(`web seed '${url}' is not a URL: give one such as http://host:8080/file.bin`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new MetainfoError(`web seed '${url}': only http:// and https:// URLs can serve Range requests`);
  }
  return url;
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function text(value: unknown): string | undefined {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;
}

function integer(value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) : undefined;
}
