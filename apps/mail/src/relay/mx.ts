import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { LabConfig } from '@portlab/config';
import { classDnsServer } from '@portlab/config';

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
 * The resolver MX records are asked of: `mail.relay.dns`, else the class DNS (`dns.classDns`, which
 * $PORTLAB_CLASS_DNS and `portlab up --class-dns` set), "address" or "address:port"; without a port,
 * 53 + the lab's offset (8053), by the lab's port rule (classDnsServer). Neither set: the system's
 * resolver.
 */
export function classResolver(config: LabConfig): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  const server = classDnsServer({
    dns: { classDns: config.mail.relay.dns ?? config.dns.classDns },
    portOffset: config.portOffset,
  });
  if (server) {
    const host = isIP(server.host) === 6 ? `[${server.host}]` : server.host;
    resolver.setServers([`${host}:${server.port}`]);
  }
  return resolver;
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
