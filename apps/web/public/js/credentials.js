// The "decode" action of a credentials line: base64 is an encoding, not encryption, so anyone who
// sees an AUTH exchange on the wire can read the password. This module shows it.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** A decoded payload: PLAIN's three NUL-separated parts (RFC 4616 §2), or the text it holds. */
function decodePayload(payload) {
  if (!payload || payload === '=' || !BASE64.test(payload)) return null;
  const text = fromBase64(payload);
  const parts = text.split('\0');
  if (parts.length === 3) return { kind: 'plain', authz: parts[0], user: parts[1], password: parts[2] };
  return { kind: 'text', text };
}

/**
 * What a credentials line says in clear, or null if it holds nothing to decode:
 *  - `AUTH PLAIN <base64>` (SMTP, RFC 4954 §4; POP3, RFC 5034) or `a1 AUTHENTICATE PLAIN <base64>`
 *    (IMAP with SASL-IR, RFC 4959): user and password;
 *  - `AUTH LOGIN <base64>`, or a base64 line alone (an answer to `334 VXNlcm5hbWU6`, "Username:"):
 *    the text it encodes, or PLAIN's parts;
 *  - USER/PASS (POP3, FTP) and IMAP LOGIN: {kind: 'clear'}, there is nothing to decode.
 */
export function decodeCredentials(line) {
  const words = line.trim().split(/\s+/);
  const verb = words.findIndex((w) => /^(AUTH|AUTHENTICATE)$/i.test(w));
  if (verb >= 0) return words[verb + 2] ? decodePayload(words[verb + 2]) : null;
  if (/^(USER|PASS)$/i.test(words[0]) || /^LOGIN$/i.test(words[1] ?? '')) return { kind: 'clear' };
  if (words.length === 1) return decodePayload(words[0]);
  if (/^334$/.test(words[0]) && words.length === 2) return decodePayload(words[1]);
  return null;
}

/** Control characters made visible (a NUL would otherwise vanish on screen). */
export const visible = (text) =>
  text.replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
