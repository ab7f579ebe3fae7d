/**
 * Bencoding (BEP 3, "bencoding") with limits. The bencode package decodes whatever it is given:
 * a file of a million nested lists overflows the stack, and a string length larger than the data is
 * silently cut. So every input is first walked once by `scan`, which checks the syntax, the nesting
 * depth and each length against the bytes really there, and only then handed to the decoder.
 */
import bencode from 'bencode';

export interface BencodeLimits {
  /** Refuse more bytes than this before looking at them. */
  maxBytes: number;
  /** Lists and dictionaries nested deeper than this are refused (a "bencode bomb"). */
  maxDepth: number;
}

/** Bytes that are not valid bencoding, or break a limit: the message says which and where. */
export class BencodeError extends Error {
  override name = 'BencodeError';
}

const I = 0x69; // 'i'
const L = 0x6c; // 'l'
const D = 0x64; // 'd'
const E = 0x65; // 'e'
const COLON = 0x3a;

/** A dictionary's entries as byte ranges: where each value starts and ends in the input. */
export type Spans = Map<string, { start: number; end: number }>;

/**
 * Checks that `data` holds exactly one bencoded value within `limits`, and returns the spans of
 * its top-level dictionary entries (empty when the value is not a dictionary). BEP 3 computes the
 * info_hash over the info dictionary exactly as it appears in the file: its span gives those bytes.
 */
export function scan(data: Uint8Array, limits: BencodeLimits): Spans {
  if (data.length > limits.maxBytes) {
    throw new BencodeError(`${data.length} bytes is more than the limit of ${limits.maxBytes}`);
  }
  const spans: Spans = new Map();
  const end = skipValue(data, 0, 0, limits, spans);
  if (end !== data.length) throw new BencodeError(`trailing bytes after the value at offset ${end}`);
  return spans;
}

/** Decodes one value after `scan` accepted it. Strings come back as Uint8Array. */
export function decode(data: Uint8Array, limits: BencodeLimits): unknown {
  scan(data, limits);
  return bencode.decode(data);
}

export function encode(value: unknown): Buffer {
  const bytes = bencode.encode(value);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Returns the offset just past the value starting at `pos`. */
function skipValue(
  data: Uint8Array,
  pos: number,
  depth: number,
  limits: BencodeLimits,
  spans?: Spans,
): number {
  const type = data[pos];
  if (type === undefined) throw new BencodeError(`data ends at offset ${pos} where a value should start`);
  if (type === I) return skipInteger(data, pos);
  if (type === L || type === D) {
    if (depth >= limits.maxDepth) {
      throw new BencodeError(`nesting deeper than ${limits.maxDepth} levels at offset ${pos}`);
    }
    let at = pos + 1;
    while (data[at] !== E) {
      if (data[at] === undefined)
        throw new BencodeError(`unterminated ${type === L ? 'list' : 'dictionary'}`);
      if (type === D) {
        // Dictionary keys are strings (BEP 3).
        const keyStart = at;
        at = skipString(data, at);
        const valueStart = at;
        at = skipValue(data, at, depth + 1, limits);
        if (spans && depth === 0) {
          const key = Buffer.from(data.subarray(keyStart, valueStart)).toString('latin1');
          spans.set(key.slice(key.indexOf(':') + 1), { start: valueStart, end: at });
        }
      } else {
        at = skipValue(data, at, depth + 1, limits);
      }
    }
    return at + 1;
  }
  return skipString(data, pos);
}

/** i<digits>e: no leading zeros, no "-0" (BEP 3). */
function skipInteger(data: Uint8Array, pos: number): number {
  const end = data.indexOf(E, pos);
  const text = end < 0 ? '' : Buffer.from(data.subarray(pos + 1, end)).toString('latin1');
  if (!/^(0|-?[1-9][0-9]{0,15})$/.test(text)) {
    throw new BencodeError(`bad integer at offset ${pos}: write i42e, without leading zeros`);
  }
  return end + 1;
}

/** <length>:<bytes>: the length must be decimal and no larger than what is left. */
function skipString(data: Uint8Array, pos: number): number {
  let at = pos;
  let length = 0;
  while (data[at] !== COLON) {
    const digit = (data[at] ?? -1) - 0x30;
    if (digit < 0 || digit > 9 || at - pos >= 10) {
      throw new BencodeError(`bad string length at offset ${pos}: expected digits then ':'`);
    }
    length = length * 10 + digit;
    at++;
  }
  if (at === pos) throw new BencodeError(`empty string length at offset ${pos}`);
  const end = at + 1 + length;
  if (end > data.length) {
    throw new BencodeError(
      `string at offset ${pos} claims ${length} bytes, only ${data.length - at - 1} remain`,
    );
  }
  return end;
}
