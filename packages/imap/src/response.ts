import type { Socket } from 'node:net';
import type { Flag, Session } from '@portlab/transcript';

/**
 * A response as it goes on the wire: text, and literals (Buffers, sent as `{N}` CRLF bytes,
 * RFC 3501 §4.3). Builders below make the pieces; the writer sends them and tells the transcript.
 */
export type Part = string | Buffer;

/** RFC 3501 §4.3: a string goes quoted when it can, as a literal when it must (CR, LF, 8-bit, long). */
export function str(value: string | Buffer | null | undefined): Part {
  if (value === null || value === undefined) return 'NIL';
  const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
  if (text.length < 1024 && /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(text))
    return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
}

/** A mailbox name: an atom when it is a plain word (INBOX), else quoted. */
export function mailboxName(name: string): Part {
  return /^[A-Za-z0-9_.&+-]+$/.test(name) ? name : str(name);
}

/** A parenthesized list of parts, spaces between. */
export function list(items: Part[][] | Part[]): Part[] {
  const out: Part[] = ['('];
  items.forEach((item, i) => {
    if (i > 0) out.push(' ');
    if (Array.isArray(item)) out.push(...item);
    else out.push(item);
  });
  out.push(')');
  return out;
}

/** Bytes of a literal summarized in the transcript rather than copied into it. */
function literalSummary(bytes: Buffer): string {
  return `{${bytes.length} bytes of message data}`;
}

const SUMMARY: Flag[] = ['summary'];

/** How many untagged responses of one command the transcript shows before it counts the rest. */
const TRANSCRIPT_UNTAGGED = 100;

/** A command's first buffer: most answers are a line or two. */
const FIRST_BUFFER_BYTES = 2048;

/**
 * Buffers double up to this size; held responses go to the socket in pieces of about this size.
 * A literal larger than half of it is not copied: it goes to the socket as it is.
 */
const BUFFER_BYTES = 64 * 1024;

/**
 * Literals of at most this many bytes are copied into the writer's buffer before untagged()
 * returns: their caller may then use their memory again (FETCH reads messages into buffers it
 * uses batch after batch). Larger ones are handed to the socket as they are.
 */
export const COPIED_LITERAL_BYTES = BUFFER_BYTES / 2;

/**
 * Full-size buffers the socket is done with, for the next answer of any session (one thread: no
 * two sessions write at the same instant). A FETCH of 100 bodies wrote 17 new 64 KB buffers, and
 * fresh memory costs page faults and garbage collections: in the first rounds of a benchmark,
 * before the allocator had settled, more than the copying itself (issue #20). A few are kept,
 * whatever the number of sessions: an idle server holds at most SPARE_BUFFERS × 64 KB of them.
 */
const spare: Buffer[] = [];
const SPARE_BUFFERS = 4;

/** Text is encoded into the buffer when this long, or when a literal comes. */
const TEXT_LENGTH = 8192;

/**
 * Writes responses to the client and the same lines to the transcript. Literals go on the wire
 * whole and into the transcript as one 'summary' line; a command answered with thousands of
 * untagged lines (FETCH 1:*) shows the first hundred and a count of the rest.
 *
 * Responses are written into a buffer as they are made, as Go's bufio.Writer does: 10,000 FETCH
 * lines are a few dozen buffers handed to the socket, not 10,000 small writes or copies. Between
 * commands the session keeps no buffer, so an idle connection costs no more than its socket.
 */
export class ResponseWriter {
  private untaggedThisCommand = 0;
  private holding = false;
  /** Where responses are written; `buffer[start, end)` is written but not yet given to the socket. */
  private buffer: Buffer | null = null;
  private start = 0;
  private end = 0;
  /** Text written since the last literal, kept as a string until then: one encoding for many lines. */
  private text = '';
  /** Pieces ready for the socket, in order (filled parts of buffers, large literals), and their size. */
  private ready: Buffer[] = [];
  private readyBytes = 0;

  constructor(
    public socket: Socket,
    private readonly transcript: Session | undefined,
  ) {}

  /** `* ...`: data the server sends, with or without a command asking. */
  untagged(...parts: Part[]): void {
    this.send('* ', parts);
  }

  /** `+ text`: go on (a literal, an AUTHENTICATE step, IDLE). */
  continuation(text: string): void {
    this.send(`+ ${text}`, []);
  }

  /** The tagged completion: `a1 OK [CODE] text`. */
  tagged(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, code?: string, flags: Flag[] = []): void {
    this.send(`${tag} ${status} ${code ? `[${code}] ` : ''}${text}`, [], flags);
    this.untaggedThisCommand = 0;
  }

  /**
   * Gathers the responses of one command into few writes and TCP segments, until release():
   * meanwhile they go to the socket 64 KB at a time.
   */
  hold(): void {
    this.holding = true;
  }

  /** Sends what was held, now (the command is done, or IDLE waits for news), and lets the buffer go. */
  release(): void {
    this.holding = false;
    this.flush();
    if (this.buffer?.length === BUFFER_BYTES && this.socketDone() && spare.length < SPARE_BUFFERS)
      spare.push(this.buffer);
    this.buffer = null;
  }

  /**
   * Waits while the socket's own buffer is full (the client reads slower than we answer): a FETCH
   * of a whole mailbox is never all in memory.
   */
  async drained(): Promise<void> {
    if (this.socket.writableNeedDrain && !this.socket.destroyed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done).off('close', done);
          resolve();
        };
        this.socket.on('drain', done).on('close', done);
      });
    }
  }

  /** One response: the text, each literal as `{N}` CRLF and its bytes (RFC 3501 §4.3), then CRLF. */
  private send(first: string, parts: Part[], flags: Flag[] = []): void {
    if (!this.socket.writable) return;
    this.text += first;
    for (const part of parts) {
      if (typeof part === 'string') this.text += part;
      else {
        this.text += `{${part.length}}\r\n`;
        this.writeBytes(part);
      }
    }
    this.text += '\r\n';
    if (!this.holding) this.release();
    else {
      if (this.text.length >= TEXT_LENGTH) this.writeText();
      if (this.readyBytes >= BUFFER_BYTES) this.flush();
    }
    this.record(first, parts, flags);
  }

  /** Text waiting is encoded into the buffer (UTF-8: at most 3 bytes per UTF-16 code unit). */
  private writeText(): void {
    if (this.text === '') return;
    this.reserve(this.text.length * 3);
    this.end += this.buffer!.write(this.text, this.end);
    this.text = '';
  }

  private writeBytes(bytes: Buffer): void {
    this.writeText();
    if (bytes.length > COPIED_LITERAL_BYTES) {
      this.cut();
      this.queue(bytes);
      return;
    }
    this.reserve(bytes.length);
    this.buffer!.set(bytes, this.end);
    this.end += bytes.length;
  }

  /**
   * Makes room for `bytes` more. A full buffer of the largest size is handed to the socket, and
   * written again from its start if the socket took it all; else a new buffer, twice the last one
   * (or a spare one).
   */
  private reserve(bytes: number): void {
    const buffer = this.buffer;
    if (buffer && this.end + bytes <= buffer.length) return;
    if (buffer?.length === BUFFER_BYTES && bytes <= BUFFER_BYTES) {
      // Text not yet encoded stays for after: it comes after all that is written.
      this.cut();
      this.writeReady();
      if (this.socketDone()) {
        this.start = 0;
        this.end = 0;
        return;
      }
    }
    this.cut();
    const size = buffer ? Math.min(buffer.length * 2, BUFFER_BYTES) : FIRST_BUFFER_BYTES;
    const reused = !buffer && bytes <= BUFFER_BYTES ? spare.pop() : undefined;
    this.buffer = reused ?? Buffer.allocUnsafe(Math.max(size, bytes));
    this.start = 0;
    this.end = 0;
  }

  /**
   * The socket holds none of our bytes: every write so far was taken by the kernel (or dropped,
   * the socket being closed), so no buffer written before is looked at again.
   */
  private socketDone(): boolean {
    return this.socket.writableLength === 0;
  }

  /** What the buffer holds is ready for the socket; the buffer goes on filling after it. */
  private cut(): void {
    if (this.end === this.start) return;
    const piece = this.buffer!.subarray(this.start, this.end);
    this.start = this.end;
    this.queue(piece);
  }

  private queue(piece: Buffer): void {
    this.ready.push(piece);
    this.readyBytes += piece.length;
  }

  /** Hands everything written to the socket, in one write (several pieces: one writev). */
  private flush(): void {
    this.writeText();
    this.cut();
    this.writeReady();
  }

  private writeReady(): void {
    const pieces = this.ready;
    this.ready = [];
    this.readyBytes = 0;
    if (pieces.length === 0 || !this.socket.writable) return;
    if (pieces.length === 1) {
      this.socket.write(pieces[0]!);
      return;
    }
    this.socket.cork();
    for (const piece of pieces) this.socket.write(piece);
    this.socket.uncork();
  }

  private record(first: string, parts: Part[], flags: Flag[]): void {
    if (!this.transcript) return;
    if (first === '* ' && ++this.untaggedThisCommand > TRANSCRIPT_UNTAGGED) {
      if (this.untaggedThisCommand === TRANSCRIPT_UNTAGGED + 1)
        this.transcript.server('{more untagged responses follow, not shown}', SUMMARY);
      return;
    }
    // The line as text, each literal as `{N}` ending its line and a summary line of its own after
    // it; the text after a literal is a line of its own, if there is any.
    let text = first;
    let literals = 0;
    for (const part of parts) {
      if (typeof part === 'string') text += part;
      else {
        this.transcript.server(`${text}{${part.length}}`, flags);
        this.transcript.server(literalSummary(part), SUMMARY);
        literals++;
        text = '';
      }
    }
    if (text !== '' || literals === 0) this.transcript.server(text, flags);
  }
}
