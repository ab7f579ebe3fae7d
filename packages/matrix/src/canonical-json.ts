/**
 * Canonical JSON: the one byte sequence every server computes for a value, so that hashes and
 * signatures agree. Spec: appendices, "Signing JSON" → "Canonical JSON" (and room version 6+
 * "Canonical JSON": integers only, in [-(2^53)+1, 2^53-1]).
 *
 * Rules: no insignificant whitespace; object keys sorted by Unicode code point; strings written
 * in UTF-8 with only the escapes the grammar allows (\" \\ \b \f \n \r \t and \u00XX for the other
 * control characters); numbers are integers without exponent or fraction, -0 becomes 0.
 */

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

const MAX_SAFE = 2 ** 53 - 1;

/** The canonical JSON text of `value` (encode it with Buffer.from(text, 'utf8') for the bytes). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join('');
}

/** The canonical JSON bytes (UTF-8): what gets hashed and signed. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/**
 * Sort by Unicode code point, as the spec asks. JavaScript's default sort compares UTF-16 code
 * units, which puts U+10000.. (surrogate pairs, 0xD800..) before U+E000..U+FFFF: wrong here.
 */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

// Depth bound: a hostile peer's deeply nested JSON must not blow the stack.
const MAX_DEPTH = 100;
const LONE_SURROGATE = /\p{Surrogate}/u;

function write(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError('JSON nested too deeply');
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isInteger(value)) throw new CanonicalJsonError(`not an integer: ${value}`);
      if (Math.abs(value) > MAX_SAFE) throw new CanonicalJsonError(`integer out of range: ${value}`);
      // String(-0) is "0"; integers in range never print with an exponent (1e10 → "10000000000").
      out.push(String(value));
      return;
    case 'string':
      // A lone surrogate has no UTF-8 encoding: the grammar cannot write it.
      if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError('string is not valid Unicode');
      // JSON.stringify writes exactly the grammar's escapes for well-formed strings
      // (\" \\ \b \f \n \r \t, \u00xx in lower case for other controls) and nothing else.
      out.push(JSON.stringify(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          write(item, out, depth + 1);
        });
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError('only plain objects, arrays, strings, integers, booleans and null');
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
      keys.sort(compareCodePoints);
      out.push('{');
      keys.forEach((key, i) => {
        if (i > 0) out.push(',');
        write(key, out, depth + 1);
        out.push(':');
        write(obj[key], out, depth + 1);
      });
      out.push('}');
      return;
    }
    default:
      throw new CanonicalJsonError(`cannot encode a ${typeof value} in JSON`);
  }
}
