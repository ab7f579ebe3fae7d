/**
 * Outbound server-server requests (server-server API §"Request Authentication", §"Resolving server
 * names"). Every server name of the lab has an explicit port, "127.0.0.2:8448": the spec's step 2
 * ("IP literal or hostname with a port: connect to it directly") applies, so no DNS SRV record and no
 * /.well-known/matrix/server lookup is made. Requests are HTTPS, signed with our key (X-Matrix).
 *
 * TLS certificate checks. The spec requires a valid certificate for the server name, and says a
 * test deployment may whitelist servers whose certificate is not checked. Each lab has its own
 * self-signed certificate, so two labs cannot check each other's. The check is skipped ONLY for
 * loopback addresses (127.0.0.0/8, ::1: two labs on one machine) and for the configured class network
 * (the private /24 around the lab's public address, e.g. 192.168.1.0/24 when the lab is 192.168.1.20):
 * any other server name is checked against the system's CAs as usual.
 */

import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { buildXMatrixAuthorization, type SigningKey } from '@portlab/matrix';

/** Largest answer read from another server (a send_join with a big room's state fits). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const TIMEOUT_MS = 15_000;

export class FederationRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** "127.0.0.2:8448" → host and port; "[::1]:8448" too. Undefined for a name this lab cannot reach directly. */
export function splitServerName(name: string): { host: string; port: number } | undefined {
  // §"Server names": an IPv4 address, [IPv6], or a DNS name of letters, digits, '-' and '.'.
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,255})(?::(\d{1,5}))?$/.exec(name);
  if (!m) return undefined;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : 8448; // §"Resolving server names": no port, no SRV → 8448
  return port > 0 && port < 65536 ? { host, port } : undefined;
}

/** Whether a host is on the TLS whitelist (see the file comment): loopback or the class network. */
export function skipsCertificateCheck(host: string, publicAddress: string): boolean {
  if (isIP(host) === 0) return false; // a host name: checked as usual
  if (host === '::1' || /^127\./.test(host)) return true;
  const ours = /^(\d+\.\d+\.\d+)\.\d+$/.exec(publicAddress);
  if (!ours || !isPrivateIpv4(publicAddress)) return false;
  return host.startsWith(`${ours[1]}.`);
}

function isPrivateIpv4(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
}

export class FederationClient {
  constructor(
    private readonly origin: string,
    private readonly key: SigningKey,
    private readonly publicAddress: string,
  ) {}

  /**
   * A request to `destination`: JSON in, JSON out. Signed with X-Matrix unless `signed` is false
   * (GET /_matrix/key/v2/server is public). A non-2xx answer throws FederationRequestError.
   */
  async request(
    destination: string,
    method: string,
    uri: string,
    body?: unknown,
    signed = true,
  ): Promise<unknown> {
    const target = splitServerName(destination);
    if (!target) throw new FederationRequestError(`bad server name ${destination}`, 0, undefined);
    const headers: Record<string, string> = { 'user-agent': 'portlab-chat federation' };
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (signed) {
      headers.authorization = buildXMatrixAuthorization(
        { method, uri, origin: this.origin, destination, ...(body !== undefined ? { content: body } : {}) },
        this.key,
      );
    }
    const skip = skipsCertificateCheck(target.host, this.publicAddress);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: target.host,
          port: target.port,
          method,
          path: uri,
          headers,
          timeout: TIMEOUT_MS,
          // See the file comment: the whitelist of the spec, loopback and the class network only.
          rejectUnauthorized: !skip,
          ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`answer of ${destination} too large`));
            else chunks.push(d);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              json = text;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(json);
            else
              reject(
                new FederationRequestError(
                  `${method} ${uri} at ${destination}: ${status} ${text.slice(0, 200)}`,
                  status,
                  json,
                ),
              );
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${destination} did not answer in time`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
