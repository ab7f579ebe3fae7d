/**
 * Which pieces a peer has, one bit per piece, high bit of the first byte = piece 0 (BEP 3,
 * "bitfield"). The same bytes go on the wire in the bitfield message.
 */
export class Bitfield {
  readonly bytes: Buffer;
  private count = 0;

  constructor(readonly size: number) {
    this.bytes = Buffer.alloc(Math.ceil(size / 8));
  }

  /**
   * Reads a bitfield message payload. BEP 3: a wrong length, or spare bits set at the end, means a
   * broken peer, which is dropped: the error says which.
   */
  static fromWire(payload: Buffer, size: number): Bitfield {
    const field = new Bitfield(size);
    if (payload.length !== field.bytes.length) {
      throw new Error(
        `bitfield of ${payload.length} bytes for ${size} pieces (expected ${field.bytes.length})`,
      );
    }
    payload.copy(field.bytes);
    const spare = field.bytes.length * 8 - size;
    if (spare > 0 && (field.bytes[field.bytes.length - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new Error('bitfield has spare bits set after the last piece');
    }
    for (let i = 0; i < size; i++) if (field.has(i)) field.count++;
    return field;
  }

  static full(size: number): Bitfield {
    const field = new Bitfield(size);
    for (let i = 0; i < size; i++) field.set(i);
    return field;
  }

  has(index: number): boolean {
    return (this.bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0;
  }

  set(index: number): void {
    if (this.has(index)) return;
    this.bytes[index >> 3]! |= 0x80 >> (index & 7);
    this.count++;
  }

  get pieces(): number {
    return this.count;
  }

  get complete(): boolean {
    return this.count === this.size;
  }
}
