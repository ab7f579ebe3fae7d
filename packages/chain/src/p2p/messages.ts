/**
 * Bitcoin's P2P messages (developer reference, "P2P Network"; Bitcoin Core protocol.h, net.cpp).
 * Every message is framed by a 24-byte header:
 *
 *   magic (4: fabfb5da on regtest) | command (12, ASCII, NUL-padded) | length (4, LE) | checksum (4)
 *
 * where the checksum is the first 4 bytes of SHA256(SHA256(payload)). Blocks and transactions inside
 * are bitcoinjs-lib's serialisation; the few other fields are written here.
 */

import { MAGIC } from '../params.js';
import { doubleSha256 } from '../pow.js';

export const PROTOCOL_VERSION = 70016;
export const HEADER_BYTES = 24;
/**
 * The largest payload we read: a 1,000,000-byte block plus room. Bitcoin Core allows 4 MB
 * (MAX_PROTOCOL_MESSAGE_LENGTH); our blocks are legacy, so 1 MB + 1 kB is enough, and a peer
 * announcing more is refused before we buffer it.
 */
export const MAX_PAYLOAD = 1_001_000;
export const MAX_HEADERS = 2000;
export const MAX_INV = 50_000;
/** BIP 14's user agent, at most 256 bytes (Bitcoin Core's MAX_SUBVERSION_LENGTH): kept per peer and shown. */
export const MAX_USER_AGENT = 256;

export const INV_TX = 1;
export const INV_BLOCK = 2;

export interface InvItem {
  type: number;
  /** Hash in internal byte order. */
  hash: Buffer;
}

export interface NetAddr {
  time?: number;
  services: bigint;
  /** IPv4 as a dotted string, or an IPv6 string. */
  host: string;
  port: number;
}

export interface Version {
  version: number;
  services: bigint;
  timestamp: bigint;
  recv: NetAddr;
  from: NetAddr;
  nonce: Buffer;
  userAgent: string;
  startHeight: number;
  relay: boolean;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Whether the stream cannot be read further (a wrong magic or length): disconnect at once. */
  constructor(
    message: string,
    readonly fatal = false,
  ) {
    super(message);
  }
}

export function checksum(payload: Buffer): Buffer {
  return doubleSha256(payload).subarray(0, 4);
}

export function frame(command: string, payload: Buffer = Buffer.alloc(0), magic: Buffer = MAGIC): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  magic.copy(head, 0);
  head.write(command, 4, 12, 'ascii');
  head.writeUInt32LE(payload.length, 16);
  checksum(payload).copy(head, 20);
  return Buffer.concat([head, payload]);
}

/**
 * Splits a byte stream into messages; throws a ProtocolError on a broken frame. The chunks of a
 * message that is still coming are kept as they came and joined once, when it is whole: joining
 * them at every chunk would copy a 1 MB message again for each byte a peer trickles in.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete message, or undefined until more bytes come. */
  next(): { command: string; payload: Buffer; badChecksum: boolean } | undefined {
    if (this.buffered < HEADER_BYTES) return undefined;
    const head = this.first(HEADER_BYTES);
    if (!head.subarray(0, 4).equals(MAGIC)) {
      throw new ProtocolError(
        `wrong magic ${head.subarray(0, 4).toString('hex')} (regtest is ${MAGIC.toString('hex')})`,
        true,
      );
    }
    const rawCommand = head.subarray(4, 16);
    const end = rawCommand.indexOf(0);
    const command = rawCommand.subarray(0, end < 0 ? 12 : end).toString('latin1');
    if (!/^[a-z]{1,12}$/.test(command) || (end >= 0 && rawCommand.subarray(end).some((b) => b !== 0))) {
      throw new ProtocolError('malformed command name', true);
    }
    const length = head.readUInt32LE(16);
    if (length > MAX_PAYLOAD)
      throw new ProtocolError(`oversized message: ${command} of ${length} bytes, limit ${MAX_PAYLOAD}`, true);
    if (this.buffered < HEADER_BYTES + length) return undefined;
    const message = this.first(HEADER_BYTES + length);
    const payload = message.subarray(HEADER_BYTES);
    const badChecksum = !checksum(payload).equals(message.subarray(20, 24));
    this.consume(HEADER_BYTES + length);
    return { command, payload, badChecksum };
  }

  /** The first n buffered bytes in one buffer: the first chunk's own when it holds them, else joined once. */
  private first(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private consume(n: number): void {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
  }
}

/** Reads the fields of a payload; any overrun is a ProtocolError. */
export class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new ProtocolError('truncated payload');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  /** CompactSize: 1 byte, or 0xfd + 2, 0xfe + 4, 0xff + 8 bytes. */
  varint(): number {
    const first = this.u8();
    if (first < 0xfd) return first;
    if (first === 0xfd) return this.bytes(2).readUInt16LE(0);
    if (first === 0xfe) return this.u32();
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('varint too large');
    return Number(v);
  }
  varstr(): string {
    return this.bytes(this.varint()).toString('utf8');
  }
  get done(): boolean {
    return this.offset >= this.buf.length;
  }
}

export class Writer {
  private parts: Buffer[] = [];
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  varint(n: number): this {
    if (n < 0xfd) return this.bytes(Buffer.from([n]));
    if (n <= 0xffff) {
      const b = Buffer.alloc(3);
      b[0] = 0xfd;
      b.writeUInt16LE(n, 1);
      return this.bytes(b);
    }
    const b = Buffer.alloc(5);
    b[0] = 0xfe;
    b.writeUInt32LE(n, 1);
    return this.bytes(b);
  }
  varstr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.varint(b.length).bytes(b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A network address: services (8), IPv6 or IPv4-mapped address (16), port (2, big-endian). */
function writeAddr(w: Writer, a: NetAddr): void {
  w.u64(a.services);
  const ip = Buffer.alloc(16);
  const v4 = a.host.match(/^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    ip[10] = 0xff;
    ip[11] = 0xff;
    for (let i = 0; i < 4; i++) ip[12 + i] = Number(v4[i + 1]);
  }
  w.bytes(ip);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(a.port);
  w.bytes(port);
}

function readAddr(r: Reader): NetAddr {
  const services = r.u64();
  const ip = r.bytes(16);
  const port = r.bytes(2).readUInt16BE(0);
  const mapped = ip.subarray(0, 12).equals(Buffer.from('00000000000000000000ffff', 'hex'));
  const host = mapped ? [...ip.subarray(12)].join('.') : (ip.toString('hex').match(/.{4}/g) ?? []).join(':');
  return { services, host, port };
}

export function encodeVersion(v: Version): Buffer {
  const w = new Writer().i32(v.version).u64(v.services).u64(v.timestamp);
  writeAddr(w, v.recv);
  writeAddr(w, v.from);
  return w
    .bytes(v.nonce)
    .varstr(v.userAgent)
    .i32(v.startHeight)
    .bytes(Buffer.from([v.relay ? 1 : 0]))
    .done();
}

export function decodeVersion(payload: Buffer): Version {
  const r = new Reader(payload);
  const version = r.i32();
  const services = r.u64();
  const timestamp = r.u64();
  const recv = readAddr(r);
  const from = readAddr(r);
  const nonce = r.bytes(8);
  const length = r.varint();
  if (length > MAX_USER_AGENT)
    throw new ProtocolError(`user agent of ${length} bytes, limit ${MAX_USER_AGENT}`);
  const userAgent = r.bytes(length).toString('utf8');
  const startHeight = r.i32();
  // `relay` came with BIP 37 (protocol 70001); older peers (python-bitcoinlib's default 60002) omit it.
  const relay = r.done ? true : r.u8() !== 0;
  return { version, services, timestamp, recv, from, nonce, userAgent, startHeight, relay };
}

export function encodeInv(items: readonly InvItem[]): Buffer {
  const w = new Writer().varint(items.length);
  for (const it of items) w.u32(it.type).bytes(it.hash);
  return w.done();
}

export function decodeInv(payload: Buffer): InvItem[] {
  const r = new Reader(payload);
  const n = r.varint();
  if (n > MAX_INV) throw new ProtocolError(`inv of ${n} items, limit ${MAX_INV}`);
  const items: InvItem[] = [];
  for (let i = 0; i < n; i++) items.push({ type: r.u32(), hash: r.bytes(32) });
  return items;
}

/** getheaders: protocol version, block locator hashes, stop hash (zero: as many as allowed). */
export function encodeGetHeaders(locator: readonly Buffer[], stop: Buffer = Buffer.alloc(32)): Buffer {
  const w = new Writer().u32(PROTOCOL_VERSION).varint(locator.length);
  for (const h of locator) w.bytes(h);
  return w.bytes(stop).done();
}

export function decodeGetHeaders(payload: Buffer): { locator: Buffer[]; stop: Buffer } {
  const r = new Reader(payload);
  r.u32();
  const n = r.varint();
  if (n > 101) throw new ProtocolError(`locator of ${n} hashes, limit 101`);
  const locator: Buffer[] = [];
  for (let i = 0; i < n; i++) locator.push(r.bytes(32));
  return { locator, stop: r.bytes(32) };
}

/** headers: each an 80-byte header followed by a transaction count, always 0. */
export function encodeHeaders(headers: readonly Uint8Array[]): Buffer {
  const w = new Writer().varint(headers.length);
  for (const h of headers) w.bytes(h).varint(0);
  return w.done();
}

export function decodeHeaders(payload: Buffer): Buffer[] {
  const r = new Reader(payload);
  const n = r.varint();
  if (n > MAX_HEADERS) throw new ProtocolError(`headers of ${n}, limit ${MAX_HEADERS}`);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(r.bytes(80));
    r.varint();
  }
  return out;
}

export function encodeAddr(addrs: readonly NetAddr[]): Buffer {
  const w = new Writer().varint(addrs.length);
  for (const a of addrs) {
    w.u32(a.time ?? Math.floor(Date.now() / 1000));
    writeAddr(w, a);
  }
  return w.done();
}

export function decodeAddr(payload: Buffer): NetAddr[] {
  const r = new Reader(payload);
  const n = r.varint();
  if (n > 1000) throw new ProtocolError(`addr of ${n}, limit 1000`);
  const out: NetAddr[] = [];
  for (let i = 0; i < n; i++) {
    const time = r.u32();
    out.push({ ...readAddr(r), time });
  }
  return out;
}

/** Block and transaction ids as printed: the hash byte-reversed (so a block id starts with its zeros). */
export const idOfHash = (hash: Uint8Array): string => Buffer.from(hash).reverse().toString('hex');
export const hashOfId = (id: string): Buffer => Buffer.from(id, 'hex').reverse();
