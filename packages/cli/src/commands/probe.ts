import { type LabConfig, labConnectAddress, loadConfig } from '@portlab/config';
import { paint, table, useColor } from '../format.js';
import { probePorts } from '../probe.js';
import { chooseLab, labEnvironment } from '../running-labs.js';

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

/**
 * Without HOST, the lab that runs: `portlab up --host 192.168.1.20` is a flag, in no config file,
 * so the config read here says 127.0.0.1, where nothing listens. The running lab is found as the
 * other commands find it (running-labs.ts), with its address and ports. With HOST, that machine,
 * whatever runs here: probing a neighbour's PC is the point of the lab 1 exercise.
 */
async function labToProbe(config: LabConfig, portList: string | undefined): Promise<LabConfig | null> {
  const command = `npx portlab probe${portList ? ` --ports ${portList}` : ''}`;
  const choice = await chooseLab(config, process.env, command);
  if (choice.message) console.error(choice.message);
  if (choice.ambiguous) return null;
  return choice.use ? loadConfig({ env: { ...process.env, ...labEnvironment(choice.use) } }) : config;
}

/** `portlab probe [HOST] [--ports LIST]`: knock on each port and name the protocol that answers. */
export async function probe(
  labConfig: LabConfig,
  host: string | undefined,
  portList: string | undefined,
): Promise<number> {
  const config = host === undefined ? await labToProbe(labConfig, portList) : labConfig;
  if (config === null) return 2;
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
