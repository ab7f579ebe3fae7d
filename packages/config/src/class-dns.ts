import { labPort } from './services.js';

/** Where a class DNS answers: for `dns.promises.Resolver#setServers([`${host}:${port}`])`, dig -p. */
export interface ClassDnsServer {
  host: string;
  port: number;
}

/**
 * The class DNS this lab uses (config `dns.classDns`, `portlab up --class-dns HOST[:PORT]`): the
 * teacher's lab, which answers the zone's A and MX records. Without a port, the lab's rule gives
 * 53 + offset (8053), as the teacher's lab listens. Null when none is set. Throws on a port that is
 * no port.
 */
export function classDnsServer(config: {
  dns: { classDns?: string | undefined };
  portOffset: number;
}): ClassDnsServer | null {
  const text = config.dns.classDns;
  if (!text) return null;
  // "[::1]:8053", "192.168.1.20:8053", "192.168.1.20", "teacher.local"
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const host = match?.[1] ?? text;
  const port = match?.[2] === undefined ? labPort(53, config.portOffset) : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`bad class DNS '${text}': write HOST or HOST:PORT, e.g. 192.168.1.20:8053`);
  }
  return { host, port };
}
