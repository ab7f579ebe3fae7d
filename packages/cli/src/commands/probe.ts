import { type LabConfig, labConnectAddress } from '@portlab/config';
import { paint, table, useColor } from '../format.js';
import { probePorts } from '../probe.js';

/** Parses "8025,8080,8100-8110" into ports. */
export function parsePortList(text: string): number[] {
  const ports: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = Number(m?.[1]);
    const to = Number(m?.[2] ?? m?.[1]);
    if (!m || from < 1 || to > 65535 || from > to || to - from > 1024) {
      throw new Error(
        `bad port list '${part}': write ports like 25,80,8000-8100 (1 to 65535, at most 1024 in a range)`,
      );
    }
    for (let p = from; p <= to; p++) ports.push(p);
  }
  return ports;
}

/** `portlab probe [HOST] [--ports LIST]`: knock on each port and name the protocol that answers. */
export async function probe(
  config: LabConfig,
  host: string | undefined,
  portList: string | undefined,
): Promise<number> {
  let ports: number[];
  try {
    ports = portList ? parsePortList(portList) : config.services.map((s) => s.port);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const target = host ?? labConnectAddress(config); // never 0.0.0.0: the lab's own address
  const color = useColor();
  // UDP services (DNS) are asked a query over UDP too: a TCP connect cannot find them.
  const udpPorts = new Set(config.services.filter((s) => s.transport === 'udp+tcp').map((s) => s.port));
  const results = await probePorts(target, ports, { udpPorts });
  console.log(
    table(
      ['port', 'state', 'protocol', 'TLS', 'banner'],
      results.map((r) => [
        r.port,
        r.open ? paint('green', 'open', color) : paint('dim', 'closed', color),
        r.protocol ?? (r.open ? '?' : ''),
        r.tls ? 'yes' : '',
        r.banner ?? r.detail,
      ]),
    ),
  );
  return 0;
}
