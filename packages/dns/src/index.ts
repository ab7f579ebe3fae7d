export { type Answer, answer, fitUdp, RCODE, rdataText, typeName, type ZoneView } from './answer.js';
export {
  checkEntry,
  LAB_NAME,
  RegistrationError,
  type ZoneEntry,
  type ZoneFile,
  ZoneRegistry,
  zoneFile,
} from './registry.js';
export { createDnsServers, type DnsServerOptions, type DnsServers } from './server.js';
export { liveZone, type ZoneSettings } from './zone.js';
