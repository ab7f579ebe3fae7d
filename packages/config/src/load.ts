import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { type Interfaces, resolvePublicAddress } from './addresses.js';
import { dataPaths, REPO_ROOT } from './paths.js';
import { configSchema, type ParsedConfig } from './schema.js';
import {
  labPort,
  runnableServices,
  SERVICE_PLAN,
  type ServiceName,
  type ServiceSpec,
  serviceSpec,
} from './services.js';

/** A config that cannot be used: `key` names the setting, `reason` says what is wrong with it. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${source}: ${key ? `${key}: ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

export interface LabConfig extends Omit<ParsedConfig, 'publicAddress'> {
  /**
   * The address every address handed out names (src/addresses.ts): `publicAddress` when set, else
   * the host, else (host 0.0.0.0 or ::) the machine's first non-loopback IPv4 address.
   */
  publicAddress: string;
  /** The config file read, or null when the defaults alone are in force. */
  file: string | null;
  /** dataDir resolved to an absolute path. */
  dataDir: string;
  paths: ReturnType<typeof dataPaths>;
  /** The port a service listens on in this lab: an explicit `ports` entry, else the port rule. */
  portOf(service: ServiceName): number;
  services: ServiceWithPort[];
}

export interface ServiceWithPort extends ServiceSpec {
  port: number;
}

export interface LoadOptions {
  /** The config file; default $PORTLAB_CONFIG, else portlab.config.json at the repo root (optional). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** The machine's interfaces (default os.networkInterfaces()), for the tests of publicAddress. */
  interfaces?: Interfaces;
}

/**
 * Reads the config: embedded defaults, then the optional JSON file, then the environment
 * (PORTLAB_DATA_DIR, PORTLAB_HOST, PORTLAB_PUBLIC_ADDRESS, PORTLAB_PORT_OFFSET). Throws ConfigError on the first bad key.
 */
export function loadConfig(options: LoadOptions = {}): LabConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.PORTLAB_CONFIG;
  const file = path.resolve(REPO_ROOT, explicit ?? 'portlab.config.json');
  let raw: Record<string, unknown> = {};
  let used: string | null = null;
  try {
    raw = parseJsonObject(readFileSync(file, 'utf8'), file);
    used = file;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // A missing default file just means "defaults"; a missing file the user named is an error.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) {
      throw new ConfigError(file, '', `cannot read the config file (${(err as Error).message})`);
    }
  }
  const parsed = validate(raw, used ?? 'defaults');
  applyEnv(parsed, env);
  labDomainFromName(parsed, raw);
  const publicAddress = resolvePublicAddress(parsed.host, parsed.publicAddress, options.interfaces);
  if ('error' in publicAddress) {
    throw new ConfigError(
      used ?? 'defaults',
      parsed.publicAddress ? 'publicAddress' : 'host',
      publicAddress.error,
    );
  }
  const dataDir = path.resolve(REPO_ROOT, parsed.dataDir);
  const portOf = (service: ServiceName) =>
    parsed.ports[service] ?? labPort(serviceSpec(service).standardPort, parsed.portOffset);
  checkDistinctPorts(portOf, (s) => parsed.ports[s] !== undefined, used ?? 'defaults');
  return {
    ...parsed,
    publicAddress: publicAddress.address,
    file: used,
    dataDir,
    paths: dataPaths(dataDir),
    portOf,
    services: runnableServices().map((s) => ({ ...s, port: portOf(s.name) })),
  };
}

/** Two services on one port cannot both listen: say which, before anything starts. */
function checkDistinctPorts(
  portOf: (s: ServiceName) => number,
  isExplicit: (s: ServiceName) => boolean,
  source: string,
): void {
  const seen = new Map<number, ServiceName>();
  for (const { name } of SERVICE_PLAN) {
    const port = portOf(name);
    const other = seen.get(port);
    if (port !== 0 && other) {
      // Name the key the user wrote, not the one that got its port from the rule.
      const [key, clash] = isExplicit(name) ? [name, other] : [other, name];
      throw new ConfigError(source, `ports.${key}`, `port ${port} is also the port of '${clash}'`);
    }
    seen.set(port, name);
  }
}

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '', `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(file, '', 'must hold a JSON object such as {"portOffset": 8000}');
  }
  return value as Record<string, unknown>;
}

function validate(raw: unknown, source: string, keyPrefix = ''): ParsedConfig {
  const result = configSchema().safeParse(raw);
  if (result.success) return result.data;
  throw toConfigError(result.error, source, keyPrefix);
}

function toConfigError(error: z.ZodError, source: string, keyPrefix: string): ConfigError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const at = [...issue.path, issue.keys[0]].join('.');
    return new ConfigError(
      source,
      keyPrefix + at,
      'unknown key (misspelt? see docs/architecture.md, "Config")',
    );
  }
  return new ConfigError(source, keyPrefix + issue.path.join('.'), issue.message);
}

/**
 * Each lab of a class is its own mail domain (issue 18): a lab named pc07 in the class zone
 * (`portlab up --name pc07`, or dns.name) whose config sets no `domain` takes pc07.lab.test, the
 * name the class DNS gives it an MX record for. Otherwise its mail app would still take mail for
 * lab.test only, and refuse what the other labs relay to pc07.lab.test. A `domain` the config sets
 * is kept (the teacher chose it).
 */
function labDomainFromName(config: ParsedConfig, raw: Record<string, unknown>): void {
  if (raw.domain === undefined && config.dns.name) config.domain = `${config.dns.name}.${config.dns.zone}`;
}

/** Environment overrides, each validated like the file key it stands for. */
function applyEnv(config: ParsedConfig, env: NodeJS.ProcessEnv): void {
  const overrides: [string, keyof ParsedConfig, (v: string) => unknown][] = [
    ['PORTLAB_DATA_DIR', 'dataDir', (v) => v],
    ['PORTLAB_HOST', 'host', (v) => v],
    ['PORTLAB_PUBLIC_ADDRESS', 'publicAddress', (v) => v],
    ['PORTLAB_PORT_OFFSET', 'portOffset', (v) => (/^\d+$/.test(v) ? Number(v) : v)],
  ];
  for (const [name, key, convert] of overrides) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const result = configSchema().shape[key].safeParse(convert(value));
    if (!result.success) throw new ConfigError('environment', name, result.error.issues[0]!.message);
    Object.assign(config, { [key]: result.data });
  }
  // `portlab up --class-dns HOST[:PORT] --name pc07` (the class DNS): set here for every app it forks.
  const dns: [string, 'classDns' | 'name'][] = [
    ['PORTLAB_CLASS_DNS', 'classDns'],
    ['PORTLAB_DNS_NAME', 'name'],
  ];
  for (const [name, key] of dns) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const result = configSchema().shape.dns.safeParse({ ...config.dns, [key]: value });
    if (!result.success) throw new ConfigError('environment', name, result.error.issues[0]!.message);
    config.dns = result.data;
  }
}
