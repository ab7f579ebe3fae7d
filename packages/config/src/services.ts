/**
 * The port plan (docs/architecture.md, "Ports"): every service the lab can run, the app (process) that runs it,
 * and its standard port. The lab port follows one rule, itself a lesson: ports below 1024 are
 * privileged (only root may bind them on Unix), so the lab listens on standard + offset.
 */

export type AppName = 'web' | 'mail' | 'files' | 'peer' | 'dns' | 'chat' | 'chain';

export type ServiceName =
  | 'smtp'
  | 'submission'
  | 'smtps'
  | 'pop3'
  | 'pop3s'
  | 'imap'
  | 'imaps'
  | 'ftp'
  | 'ftps'
  | 'http'
  | 'https'
  | 'tracker'
  | 'peer'
  | 'dns'
  | 'matrix'
  | 'matrix-tls'
  | 'chain'
  | 'chain-api';

/** How TLS is reached on a service: not at all, upgraded in band (STARTTLS), or from the first byte. */
export type TlsMode = 'none' | 'starttls' | 'implicit';

export interface ServiceSpec {
  name: ServiceName;
  app: AppName;
  protocol: string;
  /** The port an unconfigured real client tries first (IANA registry). */
  standardPort: number;
  tls: TlsMode;
  description: string;
  /** The transport: TCP when absent; DNS answers on UDP and on TCP, one port number (RFC 1035 §4.2). */
  transport?: 'udp+tcp';
}

export const SERVICE_PLAN: readonly ServiceSpec[] = [
  {
    name: 'smtp',
    app: 'mail',
    protocol: 'SMTP',
    standardPort: 25,
    tls: 'starttls',
    description: 'mail delivery (MX), local domains only',
  },
  {
    name: 'submission',
    app: 'mail',
    protocol: 'SMTP',
    standardPort: 587,
    tls: 'starttls',
    description: 'mail submission with AUTH',
  },
  {
    name: 'smtps',
    app: 'mail',
    protocol: 'SMTP',
    standardPort: 465,
    tls: 'implicit',
    description: 'mail submission over TLS',
  },
  {
    name: 'pop3',
    app: 'mail',
    protocol: 'POP3',
    standardPort: 110,
    tls: 'starttls',
    description: 'mail download',
  },
  {
    name: 'pop3s',
    app: 'mail',
    protocol: 'POP3',
    standardPort: 995,
    tls: 'implicit',
    description: 'mail download over TLS',
  },
  {
    name: 'imap',
    app: 'mail',
    protocol: 'IMAP',
    standardPort: 143,
    tls: 'starttls',
    description: 'mail access',
  },
  {
    name: 'imaps',
    app: 'mail',
    protocol: 'IMAP',
    standardPort: 993,
    tls: 'implicit',
    description: 'mail access over TLS',
  },
  {
    name: 'ftp',
    app: 'files',
    protocol: 'FTP',
    standardPort: 21,
    tls: 'starttls',
    description: 'file transfer',
  },
  {
    name: 'ftps',
    app: 'files',
    protocol: 'FTP',
    standardPort: 990,
    tls: 'implicit',
    description: 'file transfer over TLS',
  },
  {
    name: 'http',
    app: 'web',
    protocol: 'HTTP',
    standardPort: 80,
    tls: 'none',
    description: 'web site and lab dashboard',
  },
  {
    name: 'https',
    app: 'web',
    protocol: 'HTTP',
    standardPort: 443,
    tls: 'implicit',
    description: 'web over TLS',
  },
  {
    name: 'tracker',
    app: 'peer',
    protocol: 'BitTorrent tracker (HTTP)',
    standardPort: 6969,
    tls: 'none',
    description: 'tells peers where the other peers are',
  },
  {
    name: 'peer',
    app: 'peer',
    protocol: 'BitTorrent',
    standardPort: 6881,
    tls: 'none',
    description: 'the resident peer that seeds the lab files',
  },
  {
    name: 'dns',
    app: 'dns',
    protocol: 'DNS',
    standardPort: 53,
    tls: 'none',
    description: 'the class zone: an A and an MX record for each lab',
    transport: 'udp+tcp',
  },
  {
    // Matrix's ports are above 1024: they keep their number (Synapse's default client port).
    name: 'matrix',
    app: 'chat',
    protocol: 'Matrix (HTTP)',
    standardPort: 8008,
    tls: 'none',
    description: 'Matrix chat, client-server API in plain HTTP',
  },
  {
    // The federation port of the Matrix spec (server-server API §2.1), which also serves the client API.
    name: 'matrix-tls',
    app: 'chat',
    protocol: 'Matrix (HTTPS)',
    standardPort: 8448,
    tls: 'implicit',
    description: 'Matrix over TLS: federation and the client API',
  },
  {
    name: 'chain',
    app: 'chain',
    protocol: 'Bitcoin P2P (regtest)',
    standardPort: 18444,
    tls: 'none',
    description: 'the lab blockchain node: blocks and transactions between students (lab 08)',
  },
  {
    name: 'chain-api',
    app: 'chain',
    protocol: 'HTTP (JSON, loopback)',
    standardPort: 18443,
    tls: 'none',
    description: "your node's own API for `portlab chain` (regtest's RPC port; 127.0.0.1 only)",
  },
];

/**
 * The apps that exist in apps/ today, in start order. An app joins this list when its issue lands;
 * until then its services stay in the plan (the port table, `probe`) but nothing is started.
 */
export const APPS: readonly AppName[] = ['web', 'mail', 'files', 'peer', 'dns', 'chat', 'chain'];

export const SERVICE_NAMES: readonly ServiceName[] = SERVICE_PLAN.map((s) => s.name);

export function serviceSpec(name: ServiceName): ServiceSpec {
  const spec = SERVICE_PLAN.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service '${name}'`);
  return spec;
}

export function servicesOf(app: AppName): ServiceSpec[] {
  return SERVICE_PLAN.filter((s) => s.app === app);
}

/** Services whose app exists: what `portlab up` starts. */
export function runnableServices(): ServiceSpec[] {
  return SERVICE_PLAN.filter((s) => APPS.includes(s.app));
}

/**
 * The lab's port rule (docs/architecture.md, "Ports"): a standard port below 1024 is privileged, so the lab
 * listens on standard + offset; ports of 1024 and above keep their number. Offset 0 gives the real ports.
 */
export function labPort(standardPort: number, offset: number): number {
  return standardPort < 1024 ? standardPort + offset : standardPort;
}
