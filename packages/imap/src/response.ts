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

/** How many untagged responses of one command the transcript shows before it counts the rest. */
const TRANSCRIPT_UNTAGGED = 100;

/** Held responses are handed to the socket in pieces of about this size. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Writes responses to the client and the same lines to the transcript. Literals go on the wire
 * whole and into the transcript as one 'summary' line; a command answered with thousands of
 * untagged lines (FETCH 1:*) shows the first hundred and a count of the rest.
 */
export class ResponseWriter {
  private untaggedThisCommand = 0;
  private holding = false;
  /** Responses held back (see hold()): buffers, then text not yet made a buffer; and their size. */
  private held: Buffer[] = [];
  private heldText = '';
  private heldBytes = 0;

  constructor(
    public socket: Socket,
    private readonly transcript: Session | undefined,
  ) {}

  /** `* ...`: data the server sends, with or without a command asking. */
  untagged(...parts: Part[]): void {
    this.send(['* ', ...parts]);
  }

  /** `+ text`: go on (a literal, an AUTHENTICATE step, IDLE). */
  continuation(text: string): void {
    this.send([`+ ${text}`]);
  }

  /** The tagged completion: `a1 OK [CODE] text`. */
  tagged(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, code?: string, flags: Flag[] = []): void {
    this.send([`${tag} ${status} ${code ? `[${code}] ` : ''}${text}`], flags);
    this.untaggedThisCommand = 0;
  }

  /**
   * Gathers the responses of one command into few writes and TCP segments: 10,000 FETCH lines
   * go to the socket as a few 64 KB buffers, not as 10,000 writes.
   */
  hold(): void {
    this.holding = true;
  }

  /** Sends what was held, now (the command is done, or IDLE waits for news). */
  release(): void {
    this.holding = false;
    this.flush();
  }

  /**
   * Hands a full piece of held responses to the socket, and waits while the socket's buffer is
   * full: a FETCH of a whole mailbox is never all in memory.
   */
  async drained(): Promise<void> {
    if (this.heldBytes >= FLUSH_BYTES) this.flush();
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

  private flush(): void {
    if (this.heldText !== '') this.held.push(Buffer.from(this.heldText, 'utf8'));
    const pieces = this.held;
    this.held = [];
    this.heldText = '';
    this.heldBytes = 0;
    if (pieces.length && this.socket.writable)
      this.socket.write(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
  }

  private send(parts: Part[], flags: Flag[] = []): void {
    if (!this.socket.writable) return;
    const wire: (string | Buffer)[] = [];
    for (const part of parts) {
      if (typeof part === 'string') wire.push(part);
      else wire.push(`{${part.length}}\r\n`, part);
    }
    wire.push('\r\n');
    if (this.holding) {
      // Text runs are joined and made one buffer when flushed: few copies, few writes.
      for (const piece of wire) {
        if (typeof piece === 'string') this.heldText += piece;
        else {
          if (this.heldText !== '') this.held.push(Buffer.from(this.heldText, 'utf8'));
          this.heldText = '';
          this.held.push(piece);
        }
        this.heldBytes += piece.length;
      }
      if (this.heldBytes >= FLUSH_BYTES * 4) this.flush();
    } else {
      this.socket.write(
        wire.every((w) => typeof w === 'string') ? wire.join('') : Buffer.concat(wire.map(bufferOf)),
      );
    }
    this.record(parts, parts[0] === '* ' ? 'untagged' : 'other', flags);
  }

  private record(parts: Part[], kind: 'untagged' | 'other', flags: Flag[]): void {
    if (!this.transcript) return;
    if (kind === 'untagged' && ++this.untaggedThisCommand > TRANSCRIPT_UNTAGGED) {
      if (this.untaggedThisCommand === TRANSCRIPT_UNTAGGED + 1)
        this.transcript.server('{more untagged responses follow, not shown}', ['summary']);
      return;
    }
    // The line as text, each literal as `{N}` and a summary line of its own after it.
    const lines: string[][] = [[]];
    for (const part of parts) {
      if (typeof part === 'string') lines[lines.length - 1]!.push(part);
      else {
        lines[lines.length - 1]!.push(`{${part.length}}`);
        lines.push([literalSummary(part)], []);
      }
    }
    lines.forEach((words, i) => {
      const text = words.join('');
      // Odd lines are the summaries standing for literals.
      if (i % 2 === 1) this.transcript!.server(text, ['summary']);
      else if (text !== '' || i === 0) this.transcript!.server(text, flags);
    });
  }
}

function bufferOf(part: string | Buffer): Buffer {
  return typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
}
