import { isIPv4, isIPv6 } from 'node:net';

/** Where the client asks the server to connect for the next transfer (active mode). */
export interface Target {
  host: string;
  port: number;
  family: 4 | 6;
}

/** PORT h1,h2,h3,h4,p1,p2 (RFC 959 §4.1.2): an IPv4 address and a port as two bytes. */
export function parsePort(arg: string): Target | null {
  const n = arg.split(',').map(Number);
  if (n.length !== 6 || n.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
  return { host: n.slice(0, 4).join('.'), port: n[4]! * 256 + n[5]!, family: 4 };
}

/** EPRT |1|127.0.0.1|51210| or |2|::1|51210| (RFC 2428 §2). */
export function parseEprt(arg: string): Target | null {
  const [, proto, host = '', port] = arg.split(arg[0] ?? '|');
  const family = proto === '1' && isIPv4(host) ? 4 : proto === '2' && isIPv6(host) ? 6 : null;
  const number = Number(port);
  if (!family || !Number.isInteger(number) || number < 1 || number > 65535) return null;
  return { host, port: number, family };
}
