/**
 * The class DNS from the command line:
 *  - on the teacher's machine, `portlab dns add pc07 192.168.1.57`, `dns list`, `dns remove pc07`
 *    edit $DATA/dns/zone.json, which the dns app answers from at once (packages/dns);
 *  - on a student's machine, `portlab up --class-dns TEACHER --name pc07 --user e07` registers the
 *    lab with the teacher's web app at start (`registerWithClassDns`, POST /api/dns/register).
 */
import {
  type ClassDnsServer,
  clientSourceAddress,
  isLoopback,
  type LabConfig,
  labPort,
  urlHost,
} from '@portlab/config';
import type { ZoneRegistry } from '@portlab/dns';
import { table } from '../format.js';

// Not `import … from 'node:http'`: on Node 22+ an ES import of node:http loads undici, about 3 MB of
// heap in every process that does it (issue #20, idle memory; nodejs/node#59686).
const { request } = process.getBuiltinModule('node:http');

/**
 * The zone file's registry, loaded on demand: `portlab up` imports this module for
 * registerWithClassDns, and the supervisor it becomes idles for the lab's lifetime; @portlab/dns
 * and dns2 would hold about 1 MB of its heap (issue #20, idle memory).
 */
async function registry(config: LabConfig): Promise<ZoneRegistry> {
  const { ZoneRegistry } = await import('@portlab/dns');
  return new ZoneRegistry(config.paths.dns);
}

export async function dnsAdd(config: LabConfig, name: string, address: string): Promise<number> {
  try {
    const entry = (await registry(config)).add(name.toLowerCase(), address);
    console.log(
      `${entry.name}.${config.dns.zone} -> ${entry.address} (A, and MX 10 ${entry.name}.${config.dns.zone}.)`,
    );
    return 0;
  } catch (err) {
    console.error(`portlab dns add: ${(err as Error).message}`);
    return 2;
  }
}

export async function dnsList(config: LabConfig, json: boolean): Promise<number> {
  const entries = (await registry(config)).list();
  if (json) {
    console.log(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    console.log(
      `No lab in the zone ${config.dns.zone} yet: portlab dns add NAME ADDRESS, or portlab up --class-dns on a student's machine.`,
    );
    return 0;
  }
  console.log(
    table(
      ['name', 'address', 'registered by', 'since'],
      entries.map((e) => [
        `${e.name}.${config.dns.zone}`,
        e.address,
        e.account ?? '(the teacher)',
        e.updated,
      ]),
    ),
  );
  return 0;
}

export async function dnsRemove(config: LabConfig, names: string[]): Promise<number> {
  const removed = (await registry(config)).remove(names.map((n) => n.toLowerCase()));
  for (const name of names) {
    console.log(removed.includes(name.toLowerCase()) ? `removed ${name}` : `${name} was not in the zone`);
  }
  return removed.length === names.length ? 0 : 1;
}

/**
 * This lab's name in the class zone: `dns.name`, else the first label of its mail domain when that
 * domain is a name of the zone (domain pc07.lab.test: pc07), as each lab is its own mail domain.
 */
export function labName(config: Pick<LabConfig, 'dns' | 'domain'>): string | undefined {
  if (config.dns.name) return config.dns.name;
  const suffix = `.${config.dns.zone}`;
  const label = config.domain.endsWith(suffix) ? config.domain.slice(0, -suffix.length) : '';
  return /^[a-z0-9-]+$/.test(label) ? label : undefined;
}

export interface Registration {
  server: ClassDnsServer;
  user: string;
  password: string;
}

/**
 * Registers this lab (config `dns.name`) with the class DNS: POST /api/dns/register on the
 * teacher's web app, at the class DNS's address and its HTTP port by the same port rule (80 +
 * offset), or `dns.classWebPort`. Sent from this lab's own address, since the teacher's lab records the source address.
 * Resolves with a line to print; never throws: the lab runs on without the class zone.
 */
export async function registerWithClassDns(config: LabConfig, registration: Registration): Promise<string> {
  const name = labName(config);
  const { server, user, password } = registration;
  if (!name)
    return `class DNS: no name for this lab: add --name pc07 (or "dns": {"name": "pc07"}, or "domain": "pc07.${config.dns.zone}" in the config)`;
  const webPort = config.dns.classWebPort ?? labPort(80, config.portOffset);
  const where = `${urlHost(server.host)}:${webPort}`;
  const body = JSON.stringify({ user, password, name });
  const source = clientSourceAddress(config);
  try {
    const answer = await new Promise<{
      status: number;
      body: { error?: string; fqdn?: string; address?: string };
    }>((resolve, reject) => {
      const req = request(
        {
          host: server.host,
          port: webPort,
          method: 'POST',
          path: '/api/dns/register',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          // From the lab's own address (127.0.0.8 in a test, the LAN address in class); a loopback
          // source cannot reach a teacher on the LAN, so the kernel picks one then.
          ...(source && (!isLoopback(source) || isLoopback(server.host)) ? { localAddress: source } : {}),
          timeout: 20_000,
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: { error: text.slice(0, 200) } });
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
      req.on('error', reject);
      req.end(body);
    });
    if (answer.status !== 200) {
      return `class DNS: ${where} refused the registration of ${name} (${answer.status}): ${answer.body.error ?? ''}`;
    }
    const warning = isLoopback(config.host)
      ? ` — but this lab listens on ${config.host} only: classmates cannot reach it; start it with --host 0.0.0.0`
      : '';
    return `class DNS: registered ${answer.body.fqdn} -> ${answer.body.address} with ${where}; dig @${server.host} -p ${server.port} MX ${answer.body.fqdn}${warning}`;
  } catch (err) {
    return `class DNS: cannot reach the teacher's web app at ${where} (${(err as Error).message}): check the address and that the teacher's lab is up`;
  }
}
