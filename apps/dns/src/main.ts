/**
 * The dns app: the class DNS on 8053 (53 + the lab's offset), UDP and TCP, authoritative for the
 * zone lab.test (config `dns.zone`): an A and an MX record for each lab in $DATA/dns/zone.json.
 * The lab's first UDP service. Run by `portlab up`; `node apps/dns/dist/main.js` runs it alone.
 */
import { createDnsServers, liveZone, ZoneRegistry } from '@portlab/dns';
import { startApp } from '@portlab/service';

const runtime = startApp('dns');
const { config } = runtime;

const zone = liveZone(new ZoneRegistry(config.paths.dns), {
  zone: config.dns.zone,
  ttl: config.dns.ttl,
  // ns.lab.test is where students reach this server: the address the lab hands out.
  nsAddress: config.publicAddress,
});
const servers = createDnsServers({
  zone,
  transcript: runtime.transcript('dns'),
  sessionOf: runtime.sessionOf.bind(runtime),
  host: config.host,
  queriesPerSecond: config.dns.maxQueriesPerSecondPerAddress,
});
if (await runtime.serveUdp('dns', servers.makeUdp, servers.tcp)) {
  const { labs } = zone();
  console.log(
    `[dns] zone ${config.dns.zone} on port ${runtime.portOf('dns')} (UDP and TCP): ${labs.size} lab(s)`,
  );
}

runtime.ready();
