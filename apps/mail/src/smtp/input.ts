import { dropHeldLine, heldLineLength, inDataMode, SMTPStream } from './smtp-server-internals.js';

/**
 * The longest command line we accept. RFC 5321 §4.5.3.1.4 asks servers to accept 512 octets;
 * AUTH PLAIN with a long password needs more (RFC 4954 §4 allows 12288 for AUTH exchanges).
 */
export const MAX_COMMAND_LINE = 2048;

/** Stands in the input for a command line that was too long; the connection answers it with 500. */
export const LINE_TOO_LONG = '\u0000line too long';

/**
 * smtp-server's parser, made fit for a student typing into `nc` or telnet. Two fixes, both applied
 * to the bytes as they reach the parser, so after STARTTLS they act on the decrypted stream and
 * never on TLS records:
 *
 * 1. Bare LF becomes CRLF. `nc` sends LF when Enter is pressed, and smtp-server only ends DATA on
 *    CRLF.CRLF (RFC 5321 §4.1.1.4): a lone "." then Enter would never end the message. Real MTAs
 *    accept it too (Postfix: "smtpd_forbid_bare_newline = no"). Stored messages then have CRLF
 *    line ends throughout, as the RFC wants them.
 * 2. A command line longer than MAX_COMMAND_LINE is dropped and answered with 500, and the session
 *    goes on; smtp-server alone would answer 421 and hang up. Only lines read in command mode are
 *    cut: a client that sends a message body in the same packet as DATA, before the 354 (which
 *    RFC 2920 §3.1 forbids), has long lines of that body cut too.
 */
export class HandTypedInput extends SMTPStream {
  /** The last byte of the previous chunk: a CR there means an LF starting this chunk is not bare. */
  private previous = 0;
  /** In the middle of a too-long line: dropping bytes until its LF. */
  private dropping = false;

  constructor() {
    // The parser's own limit sits above ours, so it never fires (it would close the connection).
    super({ maxCommandLength: MAX_COMMAND_LINE * 2 });
  }

  // smtp-server feeds parts of a chunk back through _write (the rest of a chunk after DATA or
  // after the final dot). Those parts are already CRLF and start at a line boundary, so going
  // through here twice changes nothing.
  override _write(
    chunk: Buffer,
    encoding: BufferEncoding | 'buffer',
    next: (err?: Error | null) => void,
  ): void {
    const crlf = this.toCrlf(chunk);
    super._write(inDataMode(this) ? crlf : this.dropLongLines(crlf), encoding, next);
  }

  private toCrlf(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, lf + 1)) {
      const before = lf === 0 ? this.previous : chunk[lf - 1];
      if (before === 0x0d) continue;
      parts.push(chunk.subarray(from, lf), CRLF);
      from = lf + 1;
    }
    if (chunk.length) this.previous = chunk[chunk.length - 1]!;
    if (from === 0) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  private dropLongLines(chunk: Buffer): Buffer {
    const kept: Buffer[] = [];
    // The parser already holds the start of the current line (a line typed slowly, or split
    // across packets): it counts towards the length.
    let held = heldLineLength(this);
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      const length = held + (lf === -1 ? end : lf) - start;
      if (this.dropping || length > MAX_COMMAND_LINE) {
        dropHeldLine(this);
        this.dropping = lf === -1;
        if (lf !== -1) kept.push(Buffer.from(`${LINE_TOO_LONG}\r\n`, 'binary'));
      } else {
        kept.push(chunk.subarray(start, end));
      }
      start = end;
      held = 0;
    }
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  }
}

const CRLF = Buffer.from('\r\n');
