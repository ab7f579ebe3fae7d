/**
 * A tracker's query string carries raw bytes: info_hash and peer_id are 20 binary bytes,
 * percent-encoded byte by byte (BEP 3). URLSearchParams would decode them as UTF-8 and mangle them,
 * so both directions are done here on bytes.
 */

/** "a=1&info_hash=%12%34..." -> each name's values as bytes. */
export function parseQuery(query: string): Map<string, Buffer[]> {
  const params = new Map<string, Buffer[]>();
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq)).toString('latin1');
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1));
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  return params;
}

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const hex = c === '%' ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c === '+' ? ' ' : c, 'latin1'));
    }
  }
  return Buffer.from(bytes);
}

/** Bytes -> %XX for everything but RFC 3986 unreserved characters. */
export function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}
