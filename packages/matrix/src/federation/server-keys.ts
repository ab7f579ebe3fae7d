/**
 * The server's public keys, published at GET /_matrix/key/v2/server, and a cache of other servers'.
 * Spec: server-server "Retrieving server keys" → "Publishing Keys" (the response is signed by the
 * keys it lists; valid_until_ts says how long others may trust it; rooms v5+: a key is not used past
 * it) and "Validating hashes and signatures" (unknown or expired keys are skipped).
 */
import type { KeyObject } from 'node:crypto';
import type { SigningKey } from '../keys.js';
import { isObject, type KeyLookup, type Signatures, signJson, verifyJsonSignature } from '../signing.js';

export interface ServerKeysResponse {
  server_name: string;
  verify_keys: Record<string, { key: string }>;
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
  valid_until_ts: number;
  signatures: Signatures;
  [k: string]: unknown;
}

/** Default lifetime of a published key response: one day (the spec asks for at least an hour). */
export const KEY_VALIDITY_MS = 24 * 3600 * 1000;

/** The signed body of GET /_matrix/key/v2/server. */
export function serverKeysResponse(opts: {
  serverName: string;
  key: SigningKey;
  validUntilTs?: number;
  oldKeys?: Record<string, { key: string; expired_ts: number }>;
  now?: number;
}): ServerKeysResponse {
  const body = {
    server_name: opts.serverName,
    verify_keys: { [opts.key.keyId]: { key: opts.key.publicKeyBase64 } },
    old_verify_keys: opts.oldKeys ?? {},
    valid_until_ts: opts.validUntilTs ?? (opts.now ?? Date.now()) + KEY_VALIDITY_MS,
  };
  return signJson(body, opts.serverName, opts.key);
}

const REFETCH_AFTER_MS = 30_000;

export class ServerKeysError extends Error {
  override name = 'ServerKeysError';
}

export interface VerifiedServerKeys {
  serverName: string;
  /** key ID → unpadded base64, for signatures made before validUntilTs. */
  verifyKeys: Map<string, string>;
  /** key ID → key and when it expired (only signatures made before expired_ts count). */
  oldKeys: Map<string, { key: string; expiredTs: number }>;
  validUntilTs: number;
}

/**
 * Checks a key response fetched from `serverName`: it names that server, and it is signed by every
 * key it lists in verify_keys (self-signed). Throws ServerKeysError.
 */
export function verifyServerKeys(response: unknown, serverName: string): VerifiedServerKeys {
  if (!isObject(response)) throw new ServerKeysError('key response is not a JSON object');
  if (response.server_name !== serverName)
    throw new ServerKeysError(`key response is for ${String(response.server_name)}, not ${serverName}`);
  if (!Number.isSafeInteger(response.valid_until_ts)) throw new ServerKeysError('valid_until_ts missing');
  if (!isObject(response.verify_keys)) throw new ServerKeysError('verify_keys missing');
  const verifyKeys = new Map<string, string>();
  for (const [keyId, v] of Object.entries(response.verify_keys)) {
    if (!keyId.startsWith('ed25519:')) continue;
    if (!isObject(v) || typeof v.key !== 'string') throw new ServerKeysError(`${keyId} has no key`);
    if (!verifyJsonSignature(response, serverName, keyId, v.key)) {
      throw new ServerKeysError(`key response not signed by its own ${keyId}`);
    }
    verifyKeys.set(keyId, v.key);
  }
  if (verifyKeys.size === 0) throw new ServerKeysError('no ed25519 key in the response');
  const oldKeys = new Map<string, { key: string; expiredTs: number }>();
  if (isObject(response.old_verify_keys)) {
    for (const [keyId, v] of Object.entries(response.old_verify_keys)) {
      if (isObject(v) && typeof v.key === 'string' && Number.isSafeInteger(v.expired_ts)) {
        oldKeys.set(keyId, { key: v.key, expiredTs: v.expired_ts as number });
      }
    }
  }
  return { serverName, verifyKeys, oldKeys, validUntilTs: response.valid_until_ts as number };
}

/**
 * Other servers' keys, fetched on demand and kept until their valid_until_ts.
 * `fetchKeys(serverName)` does the HTTP GET /_matrix/key/v2/server (the chat app provides it);
 * concurrent lookups of one server share one fetch.
 */
export class ServerKeyCache {
  readonly #cache = new Map<string, VerifiedServerKeys>();
  readonly #inflight = new Map<string, Promise<VerifiedServerKeys>>();
  readonly #fetchedAt = new Map<string, number>();

  constructor(
    private readonly fetchKeys: (serverName: string) => Promise<unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds keys known without fetching (our own). */
  remember(keys: VerifiedServerKeys): void {
    this.#cache.set(keys.serverName, keys);
  }

  /** All of a server's keys, fetched if missing or out of date. */
  async keysOf(serverName: string): Promise<VerifiedServerKeys> {
    const cached = this.#cache.get(serverName);
    if (cached && cached.validUntilTs > this.now()) return cached;
    let p = this.#inflight.get(serverName);
    if (!p) {
      p = this.fetchKeys(serverName)
        .then((body) => verifyServerKeys(body, serverName))
        .finally(() => this.#inflight.delete(serverName));
      this.#inflight.set(serverName, p);
    }
    const keys = await p;
    this.#cache.set(serverName, keys);
    this.#fetchedAt.set(serverName, this.now());
    return keys;
  }

  /**
   * A KeyLookup for verifyEvent/verifyXMatrixRequest. With `atTs` (an event's origin_server_ts),
   * old keys count for what they signed before they expired. An unknown key ID refetches once.
   */
  lookup(atTs?: number): KeyLookup {
    return async (serverName: string, keyId: string): Promise<KeyObject | string | undefined> => {
      let keys = await this.keysOf(serverName);
      const age = this.now() - (this.#fetchedAt.get(serverName) ?? 0);
      if (!keys.verifyKeys.has(keyId) && !keys.oldKeys.has(keyId) && age > REFETCH_AFTER_MS) {
        // Maybe the server made a new key since; at most one refetch per 30 s, so a flood of
        // made-up key IDs cannot make us hammer a server.
        this.#cache.delete(serverName);
        keys = await this.keysOf(serverName);
      }
      const current = keys.verifyKeys.get(keyId);
      if (current !== undefined) return current;
      const old = keys.oldKeys.get(keyId);
      if (old && atTs !== undefined && atTs < old.expiredTs) return old.key;
      return undefined;
    };
  }
}
