/**
 * The handshake (BEP 3, "peer protocol"): 68 bytes, the first a peer sends on a new connection.
 *   <19><"BitTorrent protocol"><8 reserved bytes><20-byte info_hash><20-byte peer_id>
 * Reserved bits announce extensions; we set only the extension protocol bit (BEP 10).
 */
export const PROTOCOL = Buffer.from('BitTorrent protocol');
export const HANDSHAKE_LENGTH = 1 + PROTOCOL.length + 8 + 20 + 20;

/** BEP 10: reserved byte 5, bit 0x10 ("the 20th bit from the right"). */
const EXTENSION_BYTE = 5;
const EXTENSION_BIT = 0x10;

export interface Handshake {
  infoHash: Buffer;
  peerId: Buffer;
  /** The peer speaks the extension protocol (BEP 10). */
  extended: boolean;
}

export function encodeHandshake(infoHash: Buffer, peerId: Buffer): Buffer {
  const reserved = Buffer.alloc(8);
  reserved[EXTENSION_BYTE] = EXTENSION_BIT;
  return Buffer.concat([Buffer.from([PROTOCOL.length]), PROTOCOL, reserved, infoHash, peerId]);
}

/** Bytes that are not a BitTorrent handshake: the connection is closed at once. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

/**
 * Reads the handshake as its bytes arrive, and fails on the first wrong byte of the 20-byte prefix.
 * Failing early matters: aria2c first tries an encrypted handshake (Message Stream Encryption, whose
 * first bytes are random) and falls back to this plain one only once we close.
 */
export class HandshakeReader {
  private received = Buffer.alloc(0);

  /** Returns the handshake and the bytes after it once all 68 bytes are in, else undefined. */
  push(chunk: Buffer): { handshake: Handshake; rest: Buffer } | undefined {
    this.received = Buffer.concat([this.received, chunk]);
    const prefix = Math.min(this.received.length, 1 + PROTOCOL.length);
    const expected = Buffer.concat([Buffer.from([PROTOCOL.length]), PROTOCOL]);
    if (!this.received.subarray(0, prefix).equals(expected.subarray(0, prefix))) {
      throw new HandshakeError(
        this.received[0] === PROTOCOL.length
          ? 'not a BitTorrent handshake (protocol name differs)'
          : `not a plain BitTorrent handshake (first byte 0x${this.received[0]!.toString(16)}, expected 0x13; encrypted?)`,
      );
    }
    if (this.received.length < HANDSHAKE_LENGTH) return undefined;
    const at = 1 + PROTOCOL.length;
    return {
      handshake: {
        extended: (this.received[at + EXTENSION_BYTE]! & EXTENSION_BIT) !== 0,
        infoHash: Buffer.from(this.received.subarray(at + 8, at + 28)),
        peerId: Buffer.from(this.received.subarray(at + 28, at + 48)),
      },
      rest: this.received.subarray(HANDSHAKE_LENGTH),
    };
  }
}

/**
 * A peer_id as a person reads it: most start with a printable client tag ("-PL0100-", "-TR3000-",
 * aria2's "A2-1-36-0-"); the random rest, when not printable, is shown in hex.
 */
export function describePeerId(peerId: Buffer): string {
  const text = peerId.toString('latin1');
  const tag = /^[!-~]*/.exec(text)![0];
  if (tag.length === peerId.length) return tag;
  return `${tag}${peerId.subarray(tag.length, tag.length + 4).toString('hex')}…`;
}
