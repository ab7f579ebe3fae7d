import type { LabConfig } from '@portlab/config';
import { serviceStatuses } from '@portlab/service';
import { table } from '../format.js';

/** `portlab ports`: which service listens on which port, from what each app says of itself. */
export function ports(config: LabConfig, json: boolean): number {
  const statuses = serviceStatuses(config);
  if (json) {
    console.log(JSON.stringify(statuses, null, 2));
    return 0;
  }
  console.log(
    table(
      ['service', 'protocol', 'port', 'standard port', 'TLS', 'listening', 'transport'],
      statuses.map((s) => [
        s.name,
        s.protocol,
        s.port,
        s.standardPort,
        s.tls,
        s.listening ? 'yes' : 'no',
        s.transport === 'udp+tcp' ? 'UDP and TCP' : 'TCP',
      ]),
    ),
  );
  return 0;
}
