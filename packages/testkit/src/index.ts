import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ConfigFile, SERVICE_NAMES, type ServiceName } from '@portlab/config';
import { freePortRange } from './ports.js';

export { BLOCK_PORTS, freePortRange, freePorts, type PortRange, REGISTER as PORT_REGISTER } from './ports.js';

export interface TempLab {
  /** The temporary folder holding everything. */
  dir: string;
  dataDir: string;
  configFile: string;
  /** Every service of the plan on its own free port: never the ports of a running lab. */
  ports: Record<ServiceName, number>;
  /** Environment for a child process (app, CLI) that must use this lab. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/**
 * A throw-away lab: its own data dir and a config file giving every service a free port, and FTP a
 * free range of passive data ports (8, unless `extra.files.passivePorts` says otherwise).
 */
export async function tempLab(extra: Partial<ConfigFile> = {}): Promise<TempLab> {
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-test-'));
  const dataDir = path.join(dir, 'var');
  // One block of free ports below the ephemeral range: a port the kernel handed out for port 0 and
  // got back could be handed to another test's server (or client) before the lab binds it, and a
  // client would then talk to that server (seen in CI: TLS to a plain port). The block also holds
  // FTP's passive data ports, so that no test falls back on the lab's own 8200-8299. It is held in
  // the register of ports.ts until cleanup(): no other test's lab gets these ports meanwhile, even
  // those of apps this test never starts.
  const PASSIVE = 8;
  const given = [...Object.values(extra.ports ?? {})].filter((p): p is number => typeof p === 'number');
  const passive = extra.files?.passivePorts;
  if (passive) for (let p = passive.from; p <= passive.to; p++) given.push(p);
  const block = await freePortRange(SERVICE_NAMES.length + PASSIVE, given);
  const ports = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, block.from + i])) as Record<
    ServiceName,
    number
  >;
  const passivePorts = extra.files?.passivePorts ?? { from: block.to - PASSIVE + 1, to: block.to };
  const configFile = path.join(dir, 'portlab.config.json');
  const config = {
    dataDir,
    ...extra,
    ports: { ...ports, ...extra.ports },
    files: { ...extra.files, passivePorts },
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const env: NodeJS.ProcessEnv = { ...process.env, PORTLAB_CONFIG: configFile, NO_COLOR: '1' };
  for (const name of ['PORTLAB_DATA_DIR', 'PORTLAB_HOST', 'PORTLAB_PUBLIC_ADDRESS', 'PORTLAB_PORT_OFFSET'])
    delete env[name];
  return {
    dir,
    dataDir,
    configFile,
    ports,
    env,
    cleanup: () => {
      // An app stopped a moment ago may still have had a file open: retry as `rm -rf` would not.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      block.release();
    },
  };
}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`: a
 * bound on a hang (30 s by default, for a busy machine), below the test's own timeout (60 s, see
 * vitest.shared.ts) so that the failure names what was awaited.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 25, what = 'the condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until a GET of `url` answers 2xx (a server's /healthz); a refused connection counts as not yet. */
export function waitForHttp(url: string, what = url): Promise<true> {
  return waitFor(
    () =>
      fetch(url).then(
        (r) => r.ok || undefined,
        () => undefined,
      ),
    { what },
  );
}

/**
 * aria2c's flags for a swarm on this machine alone: no config file, no DHT, local peer discovery
 * (BEP 14), peer exchange (BEP 11) nor IPv6, so it finds peers through the lab's tracker only. It
 * listens on `listenPort`, bound to `address` when given (a peer's own loopback address).
 */
export function aria2cLocalArgs(listenPort: number, address?: string): string[] {
  return [
    '--no-conf',
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--disable-ipv6',
    ...(address ? [`--interface=${address}`] : []),
    `--listen-port=${listenPort}`,
    '--summary-interval=0',
  ];
}

/** True if something accepts a TCP connection on 127.0.0.1:port now. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A raw TCP connection, connected, and whether the other side has closed it yet. */
export interface RawConnection {
  socket: Socket;
  closed(): boolean;
}

/**
 * Opens a TCP connection to `port` (from `localAddress`, another PC of the class on the loopback) and
 * resolves once connected: what a hostile client's tests hold open to see a server's limits.
 */
export async function rawConnection(
  port: number,
  options: { host?: string; localAddress?: string } = {},
): Promise<RawConnection> {
  const socket = connect({
    port,
    host: options.host ?? '127.0.0.1',
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  let closed = false;
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined); // a reset after connecting: 'close' follows
  return { socket, closed: () => closed };
}

/**
 * A configuration folder for transmission-cli (`-g DIR`) that keeps it to the test: peers on
 * 127.0.0.1:`port` only, no DHT, local peer discovery, PEX, uTP, UPnP nor RPC port.
 */
export function transmissionConfig(dir: string, port: number): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': '127.0.0.1',
      'bind-address-ipv6': '::1',
      'rpc-enabled': false,
      'peer-port': port,
    }),
  );
  return dir;
}

export { type ChainNodeLab, type ChainNodeOptions, startChainNode } from './chain-node.js';
export {
  type AgentReport,
  type BoardStudent,
  boardStudents,
  CLASS_PORTS,
  type ClassLab,
  type ClassLabOptions,
  checkAs,
  checkDeliveries,
  createClass,
  type Deliveries,
  inboxMessageIds,
  type LoadOptions,
  mergeLatencies,
  PORTLAB_BIN,
  quantile,
  runStudents,
  STUDENT_AGENT,
  type Student,
  startClassLab,
} from './classroom.js';
export {
  configFileEnv,
  type MailApp,
  type MailAppOptions,
  maildirMessages,
  startMailApp,
} from './mail-lab.js';
export {
  type ClassroomNetwork,
  type ClassroomOptions,
  createClassroomNetwork,
  NETNS_PREFIX,
  type NetHost,
  namespaceSupport,
  sweepStaleNamespaces,
} from './netns.js';
export { startZoneDns, type ZoneDns, type ZoneRecords } from './zone-dns.js';
