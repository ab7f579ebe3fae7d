import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { LabConfig } from '@portlab/config';
import { labPort } from '@portlab/config';

/** A failure to deliver: `permanent` ones are bounced now, the others retried (RFC 5321 §4.2.1: 5yz vs 4yz). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** RFC 3463 status for the bounce, when permanent. */
    readonly status = '5.0.0',
  ) {
    super(message);
  }
}

/**
 * The resolver MX records are asked of: `mail.relay.dns` or $PORTLAB_CLASS_DNS (the class DNS,
 * `portlab up --class-dns`), "address" or "address:port"; without a port, 53 + the lab's offset
 * (8053), by the lab's port rule. Neither set: the system's resolver.
 */
export function classResolver(config: LabConfig): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  const server = config.mail.relay.dns ?? process.env.PORTLAB_CLASS_DNS;
  if (server) resolver.setServers([dnsServer(server, config.portOffset)]);
  return resolver;
}

/** "10.0.0.1" -> "10.0.0.1:8053"; "10.0.0.1:53", "[::1]:8053" as they are; "::1" -> "[::1]:8053". */
export function dnsServer(spec: string, portOffset: number): string {
  const port = labPort(53, portOffset);
  if (isIP(spec) === 4) return `${spec}:${port}`;
  if (isIP(spec) === 6) return `[${spec}]:${port}`;
  return spec;
}

/**
 * The addresses to deliver a domain's mail to, best first (RFC 5321 §5.1): its MX records by
 * preference, each exchange's A records; a domain without MX records is its own mail host
 * (the "implicit MX": its A record). A domain that does not exist is a permanent failure; a DNS
 * that does not answer, a temporary one.
 */
export async function mailHosts(domain: string, resolver: Resolver): Promise<string[]> {
  let exchanges: string[];
  try {
    const mx = await resolver.resolveMx(domain);
    exchanges = mx.sort((a, b) => a.priority - b.priority).map((r) => r.exchange);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND') throw new DeliveryError(`${domain}: no such domain in the DNS`, true, '5.1.2'); // RFC 3463: bad destination system
    if (code !== 'ENODATA') throw new DeliveryError(`DNS lookup of ${domain} MX failed (${code})`, false);
    exchanges = [];
  }
  // RFC 7505: a "null MX" (one record, exchange ".") says the domain takes no mail.
  if (exchanges.length === 1 && (exchanges[0] === '' || exchanges[0] === '.')) {
    throw new DeliveryError(`${domain} accepts no mail (null MX, RFC 7505)`, true, '5.1.10');
  }
  if (!exchanges.length) exchanges = [domain];
  const addresses: string[] = [];
  let lastError = '';
  for (const host of exchanges) {
    if (isIP(host)) {
      addresses.push(host);
      continue;
    }
    try {
      addresses.push(...(await resolver.resolve4(host)));
    } catch (err) {
      lastError = `${host}: ${(err as NodeJS.ErrnoException).code}`;
    }
  }
  if (!addresses.length) {
    const noHost = exchanges.length === 1 && exchanges[0] === domain && lastError.endsWith('ENOTFOUND');
    throw new DeliveryError(`no address for the mail hosts of ${domain} (${lastError})`, noHost, '5.1.2');
  }
  return [...new Set(addresses)];
}
