import type { Socket } from 'node:net';

/** What `line()` gives: the bytes of one line without its end, or word that it was too long. */
export type LineResult = { line: Buffer } | { tooLong: true } | { closed: true };

/** Bytes kept unread before the socket is paused: a client that sends faster than we run waits. */
const HIGH_WATER = 256 * 1024;

/**
 * The bytes a client sent, read on demand: a whole line, or exactly n bytes (a literal). The
 * session asks for what it expects next, so a literal is read only once its size was checked,
 * and nothing is buffered past HIGH_WATER (the socket is paused until we catch up).
 * A line ends with CRLF or with a bare LF, so commands typed by hand over `nc` work.
 */
export class LineInput {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private wake: (() => void) | null = null;
  private socket: Socket | null = null;
  private readonly onData = (chunk: Buffer) => this.push(chunk);
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };

  constructor(socket: Socket) {
    this.attach(socket);
  }

  /**
   * Reads from another socket from now on (STARTTLS). Bytes that came before the switch are
   * dropped: run inside TLS, they would let a man in the middle add commands to the protected
   * session (CVE-2011-0411, "STARTTLS command injection").
   */
  attach(socket: Socket): void {
    this.socket?.off('data', this.onData).off('end', this.onEnd).off('close', this.onEnd);
    this.chunks = [];
    this.length = 0;
    this.socket = socket;
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onEnd);
    socket.resume();
  }

  /** Stops reading the current socket, keeping what it sent (before the TLS handshake takes it over). */
  detach(): void {
    this.socket?.off('data', this.onData).off('end', this.onEnd).off('close', this.onEnd);
    this.socket = null;
  }

  /**
   * The next line, without its CRLF or LF. A line longer than `maxLength` is read up to its end
   * and dropped, never kept: the caller learns it was too long and the session goes on.
   */
  async line(maxLength: number): Promise<LineResult> {
    let tooLong = false;
    for (;;) {
      const at = this.indexOfLf();
      if (at !== -1) {
        const line = this.take(at + 1);
        if (tooLong || at > maxLength + 1) return { tooLong: true };
        const end = at > 0 && line[at - 1] === 0x0d ? at - 1 : at;
        return { line: line.subarray(0, end) };
      }
      if (this.length > maxLength + 1) {
        // Keep nothing of an over-long line; read on to its end.
        this.take(this.length);
        tooLong = true;
      }
      if (this.ended) return { closed: true };
      await this.more();
    }
  }

  /** Exactly `count` bytes (a literal whose size the caller already accepted). */
  async bytes(count: number): Promise<Buffer | null> {
    while (this.length < count) {
      if (this.ended) return null;
      await this.more();
    }
    return this.take(count);
  }

  /** Reads and forgets `count` bytes (a literal refused after the client sent it anyway). */
  async skip(count: number): Promise<boolean> {
    let left = count;
    while (left > 0) {
      if (this.length === 0) {
        if (this.ended) return false;
        await this.more();
        continue;
      }
      left -= this.take(Math.min(left, this.length)).length;
    }
    return true;
  }

  /**
   * True when a whole line is here already: the client sent (pipelined) another command before
   * our answer, so reading it now cannot wait on the client. Pipelined APPENDs run at once.
   */
  get lineReady(): boolean {
    return this.indexOfLf() !== -1;
  }

  /** True once the client closed its side and every byte it sent was read. */
  get closed(): boolean {
    return this.ended && this.length === 0;
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length > HIGH_WATER) this.socket?.pause();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private more(): Promise<void> {
    this.socket?.resume();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private indexOfLf(): number {
    let offset = 0;
    for (const chunk of this.chunks) {
      const at = chunk.indexOf(0x0a);
      if (at !== -1) return offset + at;
      offset += chunk.length;
    }
    return -1;
  }

  private take(count: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    if (this.length < HIGH_WATER) this.socket?.resume();
    return taken;
  }
}
