/**
 * Unpadded Base64, the only binary-to-text encoding Matrix uses.
 * Spec: appendices, "Unpadded Base64" and "URL-safe unpadded Base64" (RFC 4648 §4 and §5 without "=").
 *
 * Node's Buffer decoder silently skips characters outside the alphabet, so a forged signature with
 * junk in it would decode to *something*: we check the alphabet first and refuse anything else.
 */

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/** Bytes → standard unpadded Base64 ("foobar" → "Zm9vYmFy", "f" → "Zg"). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** Bytes → URL-safe unpadded Base64 ("-" and "_" instead of "+" and "/"), as in v4+ event IDs. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Standard Base64 → bytes. The spec says decoders SHOULD accept input with or without padding;
 * anything else (a character outside the alphabet, an impossible length) throws.
 */
export function decodeBase64(text: string): Buffer {
  return decode(text, STD, 'base64');
}

/** URL-safe Base64 → bytes, same rules. */
export function decodeBase64Url(text: string): Buffer {
  return decode(text, URL_SAFE, 'base64url');
}

function decode(text: string, alphabet: RegExp, encoding: 'base64' | 'base64url'): Buffer {
  if (typeof text !== 'string' || !alphabet.test(text)) throw new Error('invalid base64');
  const bare = text.replace(/=+$/, '');
  // 4n+1 characters cannot come from any byte string (6 bits do not make a byte).
  if (bare.length % 4 === 1) throw new Error('invalid base64 length');
  if (bare.length !== text.length && text.length % 4 !== 0) throw new Error('invalid base64 padding');
  return Buffer.from(bare, encoding);
}
