/**
 * Other Matrix servers' public keys, for the chat panel's ✔ on events made elsewhere (the
 * neighbour's server of lab 07). Fetched from each server itself, `GET /_matrix/key/v2/server`
 * (server-server API, "Retrieving server keys": no notary), and kept only when the response names
 * that server and is signed by the keys it lists (`verifyServerKeys`, packages/matrix).
 *
 * Only servers on loopback or on the class network (the private /24 of the lab's public address)
 * are asked, and their certificate is not checked: each lab's certificate is its own self-signed
 * one, and the spec allows skipping the check for a whitelist of test servers. The key response is
 * self-signed anyway; what it cannot prove (that this is the real server) does not matter on a
 * machine or a classroom network the teacher runs. Any other server is not asked: `null` (no key).
 */
import { request } from 'node:https';
import { isLoopback } from '@portlab/config';
import type { VerifiedServerKeys } from '@portlab/matrix';

/**
 * @portlab/matrix (event graph, signatures, canonical JSON: about 0.4 MB of heap), loaded at the first
 * look at a chat room (routes/chat.ts) or a neighbour's keys: a lab whose chat panel nobody opens
 * keeps it out of the web app's heap (issue #20, idle memory).
 */
export const matrix = () => import('@portlab/matrix');

/** A key set is kept this long; a server that did not answer is asked again after NEGATIVE_MS. */
const KEEP_MS = 10 * 60_000;
const NEGATIVE_MS = 30_000;
const MAX_BYTES = 64 * 1024;

/** "127.0.0.2:8448" → host and port; a name without port means 8448 (spec, "Resolving server names"). */
export function splitServerName(name: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(name);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : 8448;
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Loopback, or the private /24 of `publicAddress` (IPv4 only). */
export function onWhitelist(host: string, publicAddress: string): boolean {
  if (isLoopback(host)) return true;
  const net = (a: string) =>
    /^(10|172|192)\.\d+\.\d+\.\d+$/.test(a) ? a.split('.').slice(0, 3).join('.') : null;
  const ours = net(publicAddress);
  return ours !== null && net(host) === ours;
}

function fetchKeys(host: string, port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      // See the file comment: the spec's whitelist of test servers, loopback and the class network only.
      { host, port, path: '/_matrix/key/v2/server', rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_BYTES) req.destroy(new Error('key response too large'));
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export class RemoteKeys {
  readonly #cache = new Map<string, { keys: VerifiedServerKeys | null; until: number }>();

  constructor(private readonly publicAddress: string) {}

  /** The verified keys of `server`, or null: not on the whitelist, not answering, or a bad response. */
  async of(server: string): Promise<VerifiedServerKeys | null> {
    const now = Date.now();
    const cached = this.#cache.get(server);
    if (cached && cached.until > now) return cached.keys;
    const where = splitServerName(server);
    let keys: VerifiedServerKeys | null = null;
    if (where && onWhitelist(where.host, this.publicAddress)) {
      try {
        const { verifyServerKeys } = await matrix();
        keys = verifyServerKeys(await fetchKeys(where.host, where.port), server);
      } catch {
        keys = null;
      }
    }
    if (this.#cache.size > 1000) this.#cache.clear();
    this.#cache.set(server, { keys, until: now + (keys ? KEEP_MS : NEGATIVE_MS) });
    return keys;
  }
}
