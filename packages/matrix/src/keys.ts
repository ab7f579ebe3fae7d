/**
 * ed25519 server signing keys, with Node's own crypto (no native addon).
 * Spec: appendices "Signing Details" (key id = "<algorithm>:<version>", here "ed25519:<id>"),
 * server-server "Retrieving server keys" (the version matches [a-zA-Z0-9_]).
 *
 * A key is kept on disk the way Synapse keeps its `signing.key`, one line a student can read:
 *   ed25519 a_Xy12 <32-byte seed in unpadded base64>
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeBase64, encodeBase64 } from './base64.js';

export interface SigningKey {
  /** "ed25519:<version>", the name signatures are filed under. */
  readonly keyId: string;
  /** The public key, unpadded base64: what /_matrix/key/v2/server publishes. */
  readonly publicKeyBase64: string;
  /** The 32-byte seed (the private key). */
  readonly seed: Buffer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const KEY_VERSION = /^[a-zA-Z0-9_]+$/;
// An ed25519 private key as PKCS#8 DER is this fixed 16-byte header (RFC 8410 §7) then the seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// And a public key as SPKI DER is this 12-byte header (RFC 8410 §4) then the 32 key bytes.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The key whose 32-byte seed is given (the spec's test vectors give a seed). */
export function signingKeyFromSeed(seed: Uint8Array, version: string): SigningKey {
  if (seed.length !== 32) throw new Error('an ed25519 seed is 32 bytes');
  if (!KEY_VERSION.test(version)) throw new Error(`bad key version ${JSON.stringify(version)}`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
  return {
    keyId: `ed25519:${version}`,
    publicKeyBase64: encodeBase64(raw),
    seed: Buffer.from(seed),
    privateKey,
    publicKey,
  };
}

/** A new random key; the version defaults to "a_" and 4 random characters, like Synapse's. */
export function generateSigningKey(
  version = `a_${randomBytes(3).toString('base64url').replace(/-/g, '_')}`,
): SigningKey {
  return signingKeyFromSeed(randomBytes(32), version);
}

// Parsed public keys, by their base64: a server verifies thousands of events with a handful of keys.
const publicKeys = new Map<string, KeyObject>();

/** A public key from its unpadded base64 (as found in verify_keys). Throws if it is not 32 bytes. */
export function publicKeyFromBase64(text: string): KeyObject {
  const cached = publicKeys.get(text);
  if (cached) return cached;
  const raw = decodeBase64(text);
  if (raw.length !== 32) throw new Error('an ed25519 public key is 32 bytes');
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
  if (publicKeys.size >= 1000) publicKeys.clear();
  publicKeys.set(text, key);
  return key;
}

/** Raw ed25519 signature of `data` (64 bytes). */
export function signBytes(key: SigningKey, data: Uint8Array): Buffer {
  return sign(null, data, key.privateKey);
}

/** Checks a raw ed25519 signature; false (never a throw) for a malformed key or signature. */
export function verifyBytes(publicKey: KeyObject | string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = typeof publicKey === 'string' ? publicKeyFromBase64(publicKey) : publicKey;
    if (signature.length !== 64) return false;
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** The one-line file format: "ed25519 <version> <seed base64>". */
export function formatSigningKey(key: SigningKey): string {
  return `ed25519 ${key.keyId.slice('ed25519:'.length)} ${encodeBase64(key.seed)}\n`;
}

export function parseSigningKey(text: string): SigningKey {
  const [alg, version, seed] = text.trim().split(/\s+/);
  if (alg !== 'ed25519' || !version || !seed)
    throw new Error('signing key file: expected "ed25519 <version> <seed>"');
  return signingKeyFromSeed(decodeBase64(seed), version);
}

/**
 * The server's key, made on first start and kept (mode 0600): events signed yesterday must still
 * verify today, so the key must survive restarts.
 */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  try {
    return parseSigningKey(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = generateSigningKey();
  await mkdir(dirname(file), { recursive: true });
  // 'wx': if another process made it meanwhile, fail rather than overwrite, then read theirs.
  try {
    await writeFile(file, formatSigningKey(key), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseSigningKey(await readFile(file, 'utf8'));
  }
}
