/**
 * Peer wire messages (BEP 3): after the handshake, every message is
 *   <4-byte big-endian length><1-byte id><payload>
 * and a length of 0 is a keep-alive. `MessageReader` cuts a byte stream into messages and refuses a
 * length prefix larger than any message the torrent can have: a peer claiming 4 GB is dropped,
 * rather than making us buffer it.
 */

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  /** BEP 10, the extension protocol. */
  extended: 20,
} as const;

/** BEP 3: "All current implementations use 2^14 (16 kiB), and close connections which request more." */
export const BLOCK_SIZE = 16 * 1024;

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

/**
 * One number per block, to find a request by the piece message that answers it: cheaper to hash
 * than an "index:begin" string, once per block. `begin` is a uint32 on the wire, so the number is
 * unique, and exact below 2^53 for up to 2^21 pieces (a 2^21-piece torrent is 32 GiB or more).
 */
export function blockKey(index: number, begin: number): number {
  return index * 2 ** 32 + begin;
}

export type Message =
  | { type: 'keep-alive' }
  | { type: 'choke' | 'unchoke' | 'interested' | 'notInterested' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bits: Buffer }
  | ({ type: 'request' | 'cancel' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Buffer }
  | { type: 'extended'; extId: number; payload: Buffer }
  /** An id we do not speak (DHT port, BEP 6 Fast messages...): ignored, the peer stays. */
  | { type: 'unknown'; id: number; payload: Buffer };

/** A peer broke the wire protocol: this connection is closed, nothing else is affected. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const NAMES = Object.fromEntries(Object.entries(MessageId).map(([name, id]) => [id, name])) as Record<
  number,
  keyof typeof MessageId
>;

/** The payload length each fixed-size message must have. */
const FIXED_LENGTH: Partial<Record<keyof typeof MessageId, number>> = {
  choke: 0,
  unchoke: 0,
  interested: 0,
  notInterested: 0,
  have: 4,
  request: 12,
  cancel: 12,
};

export function encodeMessage(message: Message): Buffer {
  return Buffer.concat(encodeParts(message));
}

/**
 * The message as buffers to write one after the other: a piece's block goes out as it is, not
 * copied behind its header (at hundreds of MB/s, copies are what costs). Headers are built with
 * `allocUnsafe`, whose every byte is then written: a small buffer so made is a slice of Node's
 * shared pool, where `alloc` would make each its own allocation for the garbage collector.
 */
export function encodeParts(message: Message): Buffer[] {
  if (message.type === 'piece') {
    const head = Buffer.allocUnsafe(13);
    head.writeUInt32BE(9 + message.block.length, 0);
    head[4] = MessageId.piece;
    head.writeUInt32BE(message.index, 5);
    head.writeUInt32BE(message.begin, 9);
    return [head, message.block];
  }
  return [encodeFixed(message)];
}

function encodeFixed(message: Exclude<Message, { type: 'piece' }>): Buffer {
  switch (message.type) {
    case 'keep-alive':
      return Buffer.alloc(4);
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'notInterested':
      return frame(MessageId[message.type], Buffer.alloc(0));
    case 'have':
      return frame(MessageId.have, uint32s(message.index));
    case 'bitfield':
      return frame(MessageId.bitfield, message.bits);
    case 'request':
    case 'cancel':
      return frame(MessageId[message.type], uint32s(message.index, message.begin, message.length));
    case 'extended':
      return frame(MessageId.extended, Buffer.concat([Buffer.from([message.extId]), message.payload]));
    case 'unknown':
      return frame(message.id, message.payload);
  }
}

function frame(id: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(payload.length + 1, 0);
  head[4] = id;
  return Buffer.concat([head, payload]);
}

function uint32s(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => {
    out.writeUInt32BE(v, i * 4);
  });
  return out;
}

/**
 * Cuts a byte stream into messages. A message inside one received chunk is a view of that chunk;
 * only a message split across chunks is copied, and only its own bytes (at hundreds of MB/s, copying
 * every chunk into one growing buffer costs as much as the hashing).
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxLength the largest length prefix accepted: a piece message of one block, or the bitfield. */
  constructor(readonly maxLength: number) {}

  /** Adds bytes; returns the messages now complete. Throws ProtocolError on a broken message. */
  push(chunk: Buffer): Message[] {
    if (chunk.length > 0) this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Message[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length > this.maxLength) {
        throw new ProtocolError(
          `message length ${length} is larger than the limit of ${this.maxLength} bytes`,
        );
      }
      if (this.buffered < 4 + length) break;
      const body = this.take(4 + length).subarray(4);
      messages.push(parseMessage(body));
    }
    return messages;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return this.copy(4, false).readUInt32BE(0);
  }

  /** The next n bytes, consumed: a view when one chunk holds them all, else a copy. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length < n) return this.copy(n, true);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }

  /** Copies the next n bytes out of several chunks, consuming them if `consume`. */
  private copy(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const chunk = this.chunks[i]!;
      const used = chunk.copy(out, filled, 0, Math.min(chunk.length, n - filled));
      filled += used;
      if (!consume) i++;
      else if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** One message body (id and payload, without the length prefix). */
export function parseMessage(body: Buffer): Message {
  if (body.length === 0) return { type: 'keep-alive' };
  const id = body[0]!;
  const payload = body.subarray(1);
  const name = NAMES[id];
  if (name === undefined) return { type: 'unknown', id, payload };
  const fixed = FIXED_LENGTH[name];
  if (fixed !== undefined && payload.length !== fixed) {
    throw new ProtocolError(`${name} message with a ${payload.length}-byte payload (expected ${fixed})`);
  }
  switch (name) {
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'notInterested':
      return { type: name };
    case 'have':
      return { type: 'have', index: payload.readUInt32BE(0) };
    case 'bitfield':
      return { type: 'bitfield', bits: payload };
    case 'request':
    case 'cancel':
      return {
        type: name,
        index: payload.readUInt32BE(0),
        begin: payload.readUInt32BE(4),
        length: payload.readUInt32BE(8),
      };
    case 'piece':
      if (payload.length < 8)
        throw new ProtocolError(`piece message of ${payload.length} bytes is too short`);
      return {
        type: 'piece',
        index: payload.readUInt32BE(0),
        begin: payload.readUInt32BE(4),
        block: payload.subarray(8),
      };
    case 'extended':
      if (payload.length < 1) throw new ProtocolError('extended message without an extended id');
      return { type: 'extended', extId: payload[0]!, payload: payload.subarray(1) };
  }
}
