/**
 * Signing JSON objects. Spec: appendices "Signing Details" and "Checking for a Signature".
 *
 * The signature covers the canonical JSON of the object without `signatures` and `unsigned`
 * (so servers may add signatures and unsigned data in transit); it is filed under
 * signatures[<entity>][<key id>] in unpadded base64.
 */
import type { KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { type SigningKey, signBytes, verifyBytes } from './keys.js';

export type JsonObject = { [key: string]: unknown };
export type Signatures = Record<string, Record<string, string>>;

/** The bytes a signature covers: canonical JSON without `signatures` and `unsigned`. */
export function signedBytes(obj: JsonObject): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = obj;
  return canonicalJsonBytes(rest);
}

/**
 * A copy of `obj` with `entity`'s signature added (other signatures and `unsigned` are kept).
 * Never mutates its argument.
 */
export function signJson<T extends JsonObject>(
  obj: T,
  entity: string,
  key: SigningKey,
): T & { signatures: Signatures } {
  const signature = encodeBase64(signBytes(key, signedBytes(obj)));
  const previous = (isObject(obj.signatures) ? obj.signatures : {}) as Signatures;
  const signatures: Signatures = {
    ...previous,
    [entity]: { ...(previous[entity] ?? {}), [key.keyId]: signature },
  };
  return { ...obj, signatures };
}

/**
 * Does `obj` carry a valid signature by `entity` with `keyId`? Every failure (no such signature,
 * bad base64, wrong length, wrong key, tampered object) is `false`, never a throw.
 */
export function verifyJsonSignature(
  obj: JsonObject,
  entity: string,
  keyId: string,
  publicKey: KeyObject | string,
): boolean {
  const sigs = obj.signatures;
  if (!isObject(sigs)) return false;
  const mine = sigs[entity];
  if (!isObject(mine)) return false;
  const sig = mine[keyId];
  if (typeof sig !== 'string') return false;
  let raw: Buffer;
  try {
    raw = decodeBase64(sig);
  } catch {
    return false;
  }
  try {
    return verifyBytes(publicKey, signedBytes(obj), raw);
  } catch {
    // canonicalJson refused the object (a float, a lone surrogate): it cannot have been signed.
    return false;
  }
}

/** Finds a public key: (server name, key id) → unpadded base64 or KeyObject, or undefined if unknown. */
export type KeyLookup = (
  serverName: string,
  keyId: string,
) => KeyObject | string | undefined | Promise<KeyObject | string | undefined>;

/**
 * "Checking for a Signature" (appendices), steps 1-7: `entity` must have signed with at least one
 * ed25519 key we can find, and every ed25519 signature of theirs whose key we know must verify
 * (keys we cannot find are skipped, as server-server "Validating hashes and signatures" says).
 */
export async function verifySignedBy(obj: JsonObject, entity: string, lookup: KeyLookup): Promise<boolean> {
  const sigs = obj.signatures;
  if (!isObject(sigs) || !isObject(sigs[entity])) return false;
  let checked = 0;
  for (const keyId of Object.keys(sigs[entity] as object)) {
    if (!keyId.startsWith('ed25519:')) continue; // step 2: algorithms we do not understand
    const key = await lookup(entity, keyId);
    if (key === undefined) continue;
    if (!verifyJsonSignature(obj, entity, keyId, key)) return false;
    checked++;
  }
  return checked > 0;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
