import type { LineInput } from './input.js';
import { ImapSyntaxError, type Token, tokenize } from './tokenizer.js';

export interface ReaderLimits {
  /** The longest line outside literals. */
  maxLineBytes: number;
  /** The largest literal (a message given to APPEND). */
  maxLiteralBytes: number;
}

/** One command as the client sent it: the pieces (text lines and literals) for the transcript. */
export interface RawCommand {
  pieces: (string | Buffer)[];
}

export type ReadResult =
  | { kind: 'command'; tag: string; name: string; args: Token[]; raw: RawCommand }
  /** The client sent something the server refuses; the session answers and goes on. */
  | { kind: 'refused'; tag: string; status: 'BAD' | 'NO'; code?: string; text: string; raw: RawCommand }
  | { kind: 'closed' };

/** `{123}` or `{123+}` ending a line: a literal follows (RFC 3501 §4.3, RFC 7888 LITERAL+). */
const LITERAL = /\{(\d+)(\+)?\}$/;
/** RFC 3501 §9: a tag is any ASTRING-CHAR but '+'. */
const TAG = /^[^\s(){%*"\\+\]\x00-\x1f\x7f]+$/;

/**
 * Reads one command: its first line, then for each `{N}` marker the N bytes of the literal and the
 * line that goes on after it. The size of a literal is checked BEFORE a byte of it is read:
 * - a synchronizing literal `{N}` too large gets `NO [TOOBIG]` instead of the `+` go-ahead, so the
 *   client never sends it (RFC 3501 §7.5, RFC 7889 §4);
 * - a non-synchronizing one `{N+}` (LITERAL+, the client sends it without waiting) is read and
 *   thrown away as it comes, counted, never kept (RFC 7888 §4).
 * `goAhead` sends the `+` continuation for a synchronizing literal.
 */
export async function readCommand(
  input: LineInput,
  limits: ReaderLimits,
  goAhead: () => void,
): Promise<ReadResult> {
  const raw: RawCommand = { pieces: [] };
  let tag = '*';
  let total = 0;
  for (;;) {
    const result = await input.line(limits.maxLineBytes);
    if ('closed' in result) return { kind: 'closed' };
    if ('tooLong' in result) {
      raw.pieces.push(`<a line over ${limits.maxLineBytes} bytes>`);
      return refused(
        tag,
        'BAD',
        `line too long: this server reads lines of up to ${limits.maxLineBytes} bytes`,
        raw,
      );
    }
    const text = result.line.toString('utf8');
    raw.pieces.push(text);
    if (raw.pieces.length === 1) {
      tag = text.split(' ', 1)[0] ?? '*';
      if (text.trim() === '') return refused('*', 'BAD', 'empty line: send "tag COMMAND arguments"', raw);
    }
    const marker = LITERAL.exec(text);
    if (!marker) break;
    const size = Number(marker[1]);
    const synchronizing = marker[2] === undefined;
    total += size;
    if (size > limits.maxLiteralBytes || total > limits.maxLiteralBytes) {
      const why = `literal of ${size} bytes refused: this server takes literals of up to ${limits.maxLiteralBytes} bytes`;
      if (!synchronizing && !(await input.skip(size))) return { kind: 'closed' };
      raw.pieces.push(`{${size} bytes refused, not read}`);
      return refused(tag, synchronizing ? 'NO' : 'BAD', why, raw, 'TOOBIG');
    }
    if (synchronizing) goAhead();
    const literal = await input.bytes(size);
    if (!literal) return { kind: 'closed' };
    raw.pieces.push(literal);
  }
  try {
    const tokens = tokenize(raw.pieces);
    const [tagToken, nameToken, ...args] = tokens;
    if (tagToken?.type !== 'atom' || !TAG.test(tagToken.value))
      return refused(
        '*',
        'BAD',
        'a command starts with a tag (letters and digits, e.g. a1) then its name',
        raw,
      );
    if (nameToken?.type !== 'atom')
      return refused(tagToken.value, 'BAD', 'no command name after the tag: e.g. "a1 CAPABILITY"', raw);
    return { kind: 'command', tag: tagToken.value, name: nameToken.value.toUpperCase(), args, raw };
  } catch (err) {
    if (err instanceof ImapSyntaxError) return refused(TAG.test(tag) ? tag : '*', 'BAD', err.message, raw);
    throw err;
  }
}

function refused(
  tag: string,
  status: 'BAD' | 'NO',
  text: string,
  raw: RawCommand,
  code?: string,
): ReadResult {
  return { kind: 'refused', tag: TAG.test(tag) ? tag : '*', status, text, raw, ...(code ? { code } : {}) };
}
