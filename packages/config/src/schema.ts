import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { z as Zod } from 'zod';
import { SERVICE_NAMES, type ServiceName } from './services.js';

/**
 * Mail between labs (issue 18): submission relays an authenticated user's mail to the other labs'
 * domains of the class zone through the outbound queue ($DATA/queue/, apps/mail/src/relay/).
 */
const RELAY_DEFAULTS = {
  classZone: 'lab.test',
  retry: { firstDelayMs: 30_000, maxDelayMs: 5 * 60_000 },
  maxAgeSeconds: 3600,
  connectTimeoutMs: 10_000,
};

/**
 * The config's schema, made with zod. zod and the schema hold about 3 MB of heap, in every process
 * of a lab (each reads the config once, at start), for as long as the process runs: so zod is
 * required (its CommonJS build, synchronously) when a config is first read, and let go by
 * releaseConfigSchema() once the process is ready (packages/service, collectStartupGarbage; issue
 * #20, idle memory). A config read later requires it again.
 */
function makeConfigSchema(z: typeof Zod) {
  const port = z.number().int().min(0).max(65535);

  /** Explicit ports per service, for a lab that must avoid a port taken by something else. */
  const portsSchema = z
    .strictObject(Object.fromEntries(SERVICE_NAMES.map((name) => [name, port.optional()])))
    .default({});

  const relaySchema = z
    .strictObject({
      /** Mail is relayed to this domain's subdomains only (pc07.lab.test): never to the Internet. */
      classZone: z
        .string()
        .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'must be a domain name such as lab.test')
        .default(RELAY_DEFAULTS.classZone),
      /**
       * The DNS server MX records are asked of, "host" or "host:port" (the class DNS, port 53 + the
       * offset when none is given). Default: $PORTLAB_CLASS_DNS (`portlab up --class-dns`), else the
       * system's resolver.
       */
      dns: z.string().min(1).optional(),
      /** A delivery that failed for a while is tried again after firstDelayMs, doubling up to maxDelayMs. */
      retry: z
        .strictObject({
          firstDelayMs: z.number().int().min(10).default(RELAY_DEFAULTS.retry.firstDelayMs),
          maxDelayMs: z.number().int().min(10).default(RELAY_DEFAULTS.retry.maxDelayMs),
        })
        .refine((r) => r.maxDelayMs >= r.firstDelayMs, { message: 'maxDelayMs must be >= firstDelayMs' })
        .default(RELAY_DEFAULTS.retry),
      /** A message still undelivered after this long goes back to its sender as a bounce (RFC 3464). */
      maxAgeSeconds: z.number().min(0.1).default(RELAY_DEFAULTS.maxAgeSeconds),
      /** How long to wait for a lab's MX to answer a connection. */
      connectTimeoutMs: z.number().int().min(100).default(RELAY_DEFAULTS.connectTimeoutMs),
    })
    .default(RELAY_DEFAULTS);

  /**
   * The lab config. Every key has a default, so an empty file (or none) is a working lab.
   * Objects are strict: a misspelt key is an error that names it, not a setting silently ignored.
   */
  return z.strictObject({
    /** The address every service binds. 127.0.0.1 keeps the lab on this machine; a classroom sets a LAN address. */
    host: z
      .string()
      .refine((h) => isIP(h) !== 0 || h === 'localhost', {
        message: 'must be an IP address such as 127.0.0.1',
      })
      .default('127.0.0.1'),
    /**
     * The address every address the lab hands out names (tracker peers, FTP PASV, autoconfig, home
     * page): default `host`, or with host 0.0.0.0 / :: the machine's first non-loopback IPv4 address.
     * Set it when students reach the lab at another address than it binds (src/addresses.ts).
     */
    publicAddress: z
      .string()
      .refine((h) => isIP(h) !== 0, {
        message: 'must be an IP address students can reach, such as 192.168.1.20',
      })
      .refine((h) => h !== '0.0.0.0' && h !== '::', {
        message: 'must be one address students can type, not 0.0.0.0 or :: (those mean every interface)',
      })
      .optional(),
    /** Added to standard ports below 1024 (docs/architecture.md, "Ports"). */
    portOffset: z.number().int().min(0).max(64511).default(8000),
    ports: portsSchema,
    /** Where users, mail, files, logs and the certificate live; relative paths are from the repo root. */
    dataDir: z.string().min(1).default('var'),
    /** The mail domain of the demo accounts. */
    domain: z
      .string()
      .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain name such as lab.test')
      .default('lab.test'),
    /** A lab with known demo passwords refuses to bind a non-loopback address unless this is true. */
    allowDemoPasswords: z.boolean().default(false),
    /**
     * Connections at once from one address to one service of the lab (packages/service runtime):
     * past it, a connection is closed at once, so that one student's PC cannot take every IMAP, SMTP
     * or web connection while the class waits. The lab machine's own are not counted. A class behind
     * one NAT address raises it (README). FTP has its own, lower, files.maxConnectionsPerAddress.
     */
    maxConnectionsPerAddress: z.number().int().min(1).default(50),
    mail: z
      .strictObject({
        /** SIZE (RFC 1870): larger messages are refused with 552. */
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .default(10 * 1024 * 1024),
        /**
         * Per-mailbox quota: the bytes of the message files of all the account's folders. Full: SMTP
         * refuses its recipients (452 4.2.2) and a message that would pass it (552 5.2.2), IMAP an
         * APPEND (NO [OVERQUOTA]); nothing is half-stored. 100 MB like files.quotaBytes.
         */
        quotaBytes: z
          .number()
          .int()
          .min(0)
          .default(100 * 1024 * 1024),
        /** Refuse AUTH (and POP3/IMAP logins) before STARTTLS. Off by default: lab 2 shows the password on the wire. */
        requireTlsForAuth: z.boolean().default(false),
        relay: relaySchema,
      })
      .default({
        maxMessageBytes: 10 * 1024 * 1024,
        quotaBytes: 100 * 1024 * 1024,
        requireTlsForAuth: false,
        relay: RELAY_DEFAULTS,
      }),
    files: z
      .strictObject({
        /** Ports for FTP passive data connections (RFC 959 PASV, RFC 2428 EPSV). */
        passivePorts: z
          .strictObject({ from: port.min(1024), to: port.min(1024) })
          .refine((r) => r.to >= r.from, { message: 'to must be >= from' })
          .default({ from: 8200, to: 8299 }),
        /** Anonymous FTP, read-only in $DATA/files/public/. */
        anonymous: z.boolean().default(false),
        /** Per-user quota; an upload that would pass it gets 552 and nothing half-stored. */
        quotaBytes: z
          .number()
          .int()
          .min(0)
          .default(100 * 1024 * 1024),
        maxConnectionsPerAddress: z.number().int().min(1).default(10),
        idleTimeoutSeconds: z.number().int().min(10).default(300),
        /** Refuse USER/PASS before AUTH TLS. */
        requireTls: z.boolean().default(false),
      })
      .default({
        passivePorts: { from: 8200, to: 8299 },
        anonymous: false,
        quotaBytes: 100 * 1024 * 1024,
        maxConnectionsPerAddress: 10,
        idleTimeoutSeconds: 300,
        requireTls: false,
      }),
    /**
     * The delay after a failed login (packages/service LoginThrottle): `failureDelayMs` after the
     * first, doubling up to `maxDelayMs`. `throttleBy` "account" counts failures per source address
     * and account, so that in a class behind one NAT address one student's typos do not slow the
     * others' logins; "address" counts every failure from an address together (one slow-down for all).
     */
    login: z
      .strictObject({
        failureDelayMs: z.number().int().min(0).max(60_000).default(250),
        maxDelayMs: z.number().int().min(0).max(600_000).default(8000),
        throttleBy: z.enum(['account', 'address']).default('account'),
      })
      .refine((l) => l.maxDelayMs >= l.failureDelayMs, { message: 'maxDelayMs must be >= failureDelayMs' })
      .default({ failureDelayMs: 250, maxDelayMs: 8000, throttleBy: 'account' }),
    web: z
      .strictObject({
        /**
         * A browser on the lab machine itself (127.0.0.0/8, ::1) is the teacher's: it sees every
         * password in the transcripts and every mailbox, as a lab run alone on one PC always did. Set
         * false where students share the lab machine, so that its own browser signs in like any other.
         */
        loopbackIsTeacher: z.boolean().default(true),
      })
      .default({ loopbackIsTeacher: true }),
    /**
     * The class DNS (apps/dns): the zone it serves, and how this lab registers in a class zone. `name`
     * is this lab's name in the zone (`pc07` is pc07.lab.test); `classDns` the class DNS server,
     * "HOST" or "HOST:PORT" (`portlab up --class-dns`), which this lab registers with at start and
     * its mail relay asks for MX records.
     */
    dns: z
      .strictObject({
        zone: z
          .string()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a domain name such as lab.test')
          .default('lab.test'),
        name: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be one DNS label such as pc07')
          .optional(),
        classDns: z.string().min(1).optional(),
        /** The teacher's web port, where a lab registers (POST /api/dns/register): default 80 + offset. */
        classWebPort: port.min(1).optional(),
        /** Seconds a resolver may keep an answer (RFC 1035 §3.2.1): short, a lab comes and goes. */
        ttl: z.number().int().min(0).max(86_400).default(60),
        /**
         * Queries a second from one address, as BIND's rate limiting bounds them: past it, dropped
         * unanswered (packages/dns rate-limit.ts). The lab machine's own are not counted.
         */
        maxQueriesPerSecondPerAddress: z.number().int().min(1).default(50),
      })
      .default({ zone: 'lab.test', ttl: 60, maxQueriesPerSecondPerAddress: 50 }),
    /**
     * Limits counted per source address by the BitTorrent peers, the tracker and the chain node, so
     * that one student's PC cannot take what the class shares (docs: README, "A class behind one NAT
     * address": where every PC comes from one address, raise them). The lab machine's own peers and
     * announces are not counted by the tracker.
     */
    p2p: z
      .strictObject({
        /** Connections at once from one address to a peer (the resident one, `portlab p2p seed`). */
        maxConnectionsPerAddress: z.number().int().min(1).default(16),
      })
      .default({ maxConnectionsPerAddress: 16 }),
    tracker: z
      .strictObject({
        /** Peers announced from one address over every torrent, and its HTTP connections at once. */
        maxPeersPerAddress: z.number().int().min(1).default(64),
      })
      .default({ maxPeersPerAddress: 64 }),
    chain: z
      .strictObject({
        /** Connections at once a chain node accepts from one address. */
        maxConnectionsPerAddress: z.number().int().min(1).default(8),
      })
      .default({ maxConnectionsPerAddress: 8 }),
    transcript: z
      .strictObject({
        /** Longer lines are cut, so a client sending megabytes does not make a megabyte log line. */
        maxLineLength: z.number().int().min(80).max(65536).default(400),
        /** A log file larger than this is rotated to <service>.1.ndjson. */
        rotateBytes: z
          .number()
          .int()
          .min(4096)
          .default(8 * 1024 * 1024),
        /** How many rotated files are kept per service. */
        keep: z.number().int().min(1).max(20).default(3),
      })
      .default({ maxLineLength: 400, rotateBytes: 8 * 1024 * 1024, keep: 3 }),
  });
}

export type ConfigSchema = ReturnType<typeof makeConfigSchema>;
export type ConfigFile = Zod.input<ConfigSchema>;
export type ParsedConfig = Zod.output<ConfigSchema>;

let schema: ConfigSchema | undefined;
/** The globals zod set when this module required it (its registry and config), to remove with it. */
let zodGlobals: string[] = [];
const ZOD_FILE = /[\\/]node_modules[\\/]zod[\\/]/;

/** The config's schema: zod is required at the first call after a release. */
export function configSchema(): ConfigSchema {
  if (!schema) {
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    // A require made here and dropped: the module it makes keeps zod among its children.
    const zod = createRequire(import.meta.url)('zod') as typeof import('zod');
    schema = makeConfigSchema(zod.z);
    zodGlobals = Object.getOwnPropertyNames(globalThis).filter((name) => !before.has(name));
  }
  return schema;
}

/**
 * Lets zod and the schema go, so that the next full collection frees them: out of require's cache
 * (zod's files only) and out of the globals zod set when it was loaded here. If zod was loaded
 * before (another user of it in the process), it set no global then, and nothing of theirs goes.
 */
export function releaseConfigSchema(): void {
  if (!schema) return;
  schema = undefined;
  const cache = createRequire(import.meta.url).cache;
  for (const file of Object.keys(cache)) if (ZOD_FILE.test(file)) delete cache[file];
  for (const name of zodGlobals) delete (globalThis as Record<string, unknown>)[name];
  zodGlobals = [];
}
export type PortOverrides = Partial<Record<ServiceName, number>>;
