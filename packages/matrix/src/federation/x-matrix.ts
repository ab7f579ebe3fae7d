/**
 * Signed server-to-server requests: the `Authorization: X-Matrix …` header.
 * Spec: server-server "Request Authentication". The sender signs a JSON object holding the method,
 * the URI (path and query, from "/_matrix"), both server names and the parsed JSON body; the
 * receiver rebuilds the same object from the request it got and checks the signature with the
 * origin's published key.
 */
import type { SigningKey } from '../keys.js';
import { type JsonObject, type KeyLookup, signJson, verifyJsonSignature } from '../signing.js';

export interface XMatrixParams {
  origin: string;
  /** Required of senders since spec v1.3; old senders may leave it out. */
  destination?: string;
  /** The key ID, e.g. "ed25519:a_AbC". */
  key: string;
  sig: string;
}

export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, e.g. "/_matrix/federation/v1/send/123". */
  uri: string;
  origin: string;
  destination: string;
  /** The JSON body, parsed; undefined when there is no body. */
  content?: unknown;
}

/** A request refused; answer with `status` and `{errcode, error: message}`. */
export class XMatrixError extends Error {
  override name = 'XMatrixError';
  readonly status = 401;
  constructor(
    message: string,
    readonly errcode: 'M_UNAUTHORIZED' | 'M_FORBIDDEN' = 'M_UNAUTHORIZED',
  ) {
    super(message);
  }
}

function requestJson(req: RequestToSign): JsonObject {
  const obj: JsonObject = {
    method: req.method.toUpperCase(),
    uri: req.uri,
    origin: req.origin,
    destination: req.destination,
  };
  if (req.content !== undefined) obj.content = req.content;
  return obj;
}

/** The Authorization header value for a request this server sends. */
export function buildXMatrixAuthorization(req: RequestToSign, key: SigningKey): string {
  const signed = signJson(requestJson(req), req.origin, key);
  const sig = signed.signatures[req.origin]?.[key.keyId] ?? '';
  // The spec asks senders for lower-case names, one space, no spaces around commas, quoted values.
  return `X-Matrix origin="${req.origin}",destination="${req.destination}",key="${key.keyId}",sig="${sig}"`;
}

/**
 * Parses an X-Matrix header (RFC 9110 §11.4 credentials: scheme, spaces, comma-separated
 * name=value, values quoted or bare, backslash escapes in quotes; names case-insensitive; unknown
 * names ignored; colons tolerated in bare values for old servers). Throws XMatrixError.
 */
export function parseXMatrixAuthorization(header: string | undefined): XMatrixParams {
  if (typeof header !== 'string') throw new XMatrixError('missing Authorization header');
  const m = /^X-Matrix +(.*)$/is.exec(header.trim());
  if (!m) throw new XMatrixError('Authorization is not X-Matrix');
  const rest = m[1] as string;
  const params = new Map<string, string>();
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < rest.length && chars.test(rest[i] as string)) i++;
  };
  while (i < rest.length) {
    skip(/[ \t,]/);
    if (i >= rest.length) break;
    const eq = rest.indexOf('=', i);
    if (eq < 0) throw new XMatrixError('malformed X-Matrix parameter');
    const name = rest.slice(i, eq).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new XMatrixError('malformed X-Matrix parameter name');
    i = eq + 1;
    let value = '';
    if (rest[i] === '"') {
      i++;
      let closed = false;
      while (i < rest.length) {
        const c = rest[i] as string;
        if (c === '\\') {
          value += rest[i + 1] ?? '';
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new XMatrixError('unterminated quoted X-Matrix value');
    } else {
      const start = i;
      while (i < rest.length && !/[ \t,]/.test(rest[i] as string)) i++;
      value = rest.slice(start, i);
    }
    skip(/[ \t]/);
    if (i < rest.length && rest[i] !== ',') throw new XMatrixError('malformed X-Matrix header');
    if (!params.has(name)) params.set(name, value);
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (!origin || !key || !sig) throw new XMatrixError('X-Matrix needs origin, key and sig');
  const out: XMatrixParams = { origin, key, sig };
  const destination = params.get('destination');
  if (destination !== undefined) out.destination = destination;
  return out;
}

/**
 * Checks a received federation request: parse the header, the destination is us, rebuild the
 * signed JSON, verify with the origin's key. Resolves to the origin server name; throws XMatrixError.
 */
export async function verifyXMatrixRequest(
  req: { authorization: string | undefined; method: string; uri: string; content?: unknown },
  ourName: string,
  keyLookup: KeyLookup,
): Promise<{ origin: string }> {
  const p = parseXMatrixAuthorization(req.authorization);
  if (p.destination !== undefined && p.destination !== ourName) {
    throw new XMatrixError(`this request is for ${p.destination}, not ${ourName}`);
  }
  if (!p.key.startsWith('ed25519:')) throw new XMatrixError(`unsupported key algorithm ${p.key}`);
  let publicKey: Awaited<ReturnType<KeyLookup>>;
  try {
    publicKey = await keyLookup(p.origin, p.key);
  } catch (err) {
    throw new XMatrixError(`cannot fetch the keys of ${p.origin}: ${(err as Error).message}`);
  }
  if (publicKey === undefined) throw new XMatrixError(`unknown key ${p.key} of ${p.origin}`);
  const signed = {
    ...requestJson({
      method: req.method,
      uri: req.uri,
      origin: p.origin,
      destination: ourName,
      content: req.content,
    }),
    signatures: { [p.origin]: { [p.key]: p.sig } },
  };
  if (!verifyJsonSignature(signed, p.origin, p.key, publicKey)) {
    throw new XMatrixError(`bad X-Matrix signature from ${p.origin}`);
  }
  return { origin: p.origin };
}
