/**
 * Which address the lab binds, which one it hands out, and which one its own clients speak from
 * (docs/architecture.md, "Ports", bind address). Three addresses, because a classroom lab binds
 * `0.0.0.0` (every interface) but must give students one address they can type:
 *
 * - `host`: what every service binds. 127.0.0.1 by default; a LAN address, or 0.0.0.0 / :: for all.
 * - `publicAddress`: what every address handed out names — the tracker's peer lists, the resident
 *   peer's announce, FTP's PASV reply, the autoconfig XML, the FileZilla export, the home page, the
 *   lab sheets' commands. With a specific host it is that host; with a wildcard host it is the
 *   machine's first non-loopback IPv4 address, unless set (`--public-address`, `publicAddress`).
 * - the lab's own clients' source address (`clientSourceAddress`): a demo or `p2p get` connecting
 *   from 127.0.0.1 to a lab on 127.0.0.2 is seen by the servers as 127.0.0.1 — the FTP server then
 *   refuses a PORT to 127.0.0.2 (RFC 2577: data connections go back to the client only) and the
 *   tracker lists the peer as 127.0.0.1 — so they bind the lab's address as their local one.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** 0.0.0.0 and :: bind every interface: no client can be sent there. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/**
 * Where a loopback-only API listens (the chain node's, for `portlab chain`): the lab's own address
 * when it is a loopback one, so that two labs on one machine (127.0.0.1 and 127.0.0.2) each keep
 * theirs; 127.0.0.1 when the lab listens on a LAN address or every interface.
 */
export function loopbackApiHost(config: { host: string }): string {
  return config.host.startsWith('127.') ? config.host : '127.0.0.1';
}

/** The machine's interfaces, as os.networkInterfaces() lists them (a parameter, for the tests). */
export type Interfaces = ReturnType<typeof networkInterfaces>;

/** The first non-loopback IPv4 address of the machine, or null when it has none (no network). */
export function firstLanAddress(interfaces: Interfaces = networkInterfaces()): string | null {
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
    }
  }
  return null;
}

/**
 * The address handed out for a lab bound on `host`: `explicit` when set, `host` itself when it is
 * one address, else the first LAN address. Returns an error text when there is none to give.
 */
export function resolvePublicAddress(
  host: string,
  explicit: string | undefined,
  interfaces?: Interfaces,
): { address: string } | { error: string } {
  if (explicit) return { address: explicit };
  if (host === 'localhost') return { address: '127.0.0.1' };
  if (!isWildcard(host)) return { address: host };
  const lan = firstLanAddress(interfaces);
  if (lan) return { address: lan };
  return {
    error:
      `host ${host} listens on every interface, but this machine has no non-loopback IPv4 address to give students; ` +
      'connect it to the network, or set the address students must type with --public-address (publicAddress, PORTLAB_PUBLIC_ADDRESS)',
  };
}

/** Whether this machine holds `address` (every 127.x is local on Linux), so a socket may bind it. */
export function isLocalAddress(address: string, interfaces: Interfaces = networkInterfaces()): boolean {
  if (isLoopback(address)) return true;
  return Object.values(interfaces).some((list) => (list ?? []).some((e) => e.address === address));
}

/**
 * The local address the lab's own clients (demos, `portlab p2p`, the resident peer's announce)
 * connect from, so that the servers see them at the lab's address: the host when it is one address;
 * with a wildcard host, the public address when this machine holds it; else none (the system picks).
 */
export function clientSourceAddress(config: { host: string; publicAddress: string }): string | undefined {
  if (config.host === 'localhost') return undefined;
  if (!isWildcard(config.host)) return config.host;
  return isLocalAddress(config.publicAddress) ? config.publicAddress : undefined;
}

/** An address as it goes in a URL: IPv6 in brackets (RFC 3986 §3.2.2). */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/**
 * The address the lab's own clients (demos, checks, `portlab p2p`) connect to: the host when it is
 * one address; with a wildcard host, the public address when this machine holds it, else loopback.
 * What they print for students to type is config.publicAddress.
 */
export function labConnectAddress(config: { host: string; publicAddress: string }): string {
  if (config.host === 'localhost') return '127.0.0.1';
  if (!isWildcard(config.host)) return config.host;
  if (isLocalAddress(config.publicAddress)) return config.publicAddress;
  return config.host === '0.0.0.0' ? '127.0.0.1' : '::1';
}

/**
 * The Matrix server name of this lab (issue #16): its public address and TLS port, "127.0.0.1:8448".
 * A server name with an explicit port needs no DNS and no .well-known to be reached (server-server
 * API §"Resolving server names", step 2), which suits a classroom. It is in every user and room id.
 */
export function matrixServerName(config: {
  publicAddress: string;
  portOf: (service: 'matrix-tls') => number;
}): string {
  return `${urlHost(config.publicAddress)}:${config.portOf('matrix-tls')}`;
}
