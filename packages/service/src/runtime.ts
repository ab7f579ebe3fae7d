import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import {
  type AppName,
  ConnectionsPerAddress,
  ensureLabCertificate,
  isLocalAddress,
  isWildcard,
  type LabCertificate,
  type LabConfig,
  loadConfig,
  type ServiceName,
  UserStore,
} from '@portlab/config';
import { plainAddress, type Session, Transcript } from '@portlab/transcript';
import { explainListenError } from './listen-error.js';
import { collectStartupGarbage } from './node-flags.js';
import { type AppRunState, type ServiceState, writeRunState } from './run-state.js';
import { supervisorVerifier, type VerifyAnswer, type VerifyRequest } from './shared-auth.js';

/** Orders the supervisor sends an app over its IPC channel (`portlab stop smtp`), and its answers to password checks. */
export type SupervisorOrder = { type: 'stop-service' | 'start-service'; service: ServiceName } | VerifyAnswer;

/** What an app tells the supervisor, and the password checks it asks of it (shared-auth.ts). */
export type AppReport =
  | { type: 'service'; service: ServiceName; state: ServiceState; port: number; error?: string }
  | { type: 'ready'; services: ServiceName[] }
  | VerifyRequest;

interface Listener {
  /** The TCP server; absent for a service on UDP alone. */
  server?: Server;
  /** Makes the UDP socket of a datagram service (DNS), bound to the same port number as `server`. */
  makeUdp?: () => UdpSocket;
  /** The bound UDP socket, while the service listens. */
  udp?: UdpSocket;
  transcript: Transcript;
  sockets: Set<Socket>;
  state: ServiceState;
  port: number;
  /** The address to bind when not the lab's host (see serve). */
  host?: string;
  error?: string;
  /** Its connections counted per address (config maxConnectionsPerAddress). */
  perAddress?: ConnectionsPerAddress;
}

export interface RuntimeOptions {
  /**
   * Whether connections from this address count against maxConnectionsPerAddress. Default: every
   * address but the lab machine's own (its demos, the welcome mail, the benches).
   */
  limited?: (address: string) => boolean;
}

/**
 * The runtime of one app process, as a real daemon has: it binds each service's port (a port in
 * use fails that service alone, with a message that says what to do), opens a transcript session
 * for every connection, keeps $DATA/run/<app>.json current, obeys the supervisor's stop/start
 * orders, and on SIGTERM closes everything cleanly.
 */
export class AppRuntime {
  private readonly listeners = new Map<ServiceName, Listener>();
  private readonly sessions = new WeakMap<Socket, Session>();
  private readonly startedAt = new Date().toISOString();
  private certificatePromise: Promise<LabCertificate> | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  readonly users: UserStore;

  private readonly limited: (address: string) => boolean;

  constructor(
    readonly app: AppName,
    readonly config: LabConfig,
    options: RuntimeOptions = {},
  ) {
    this.users = new UserStore(config.paths.users, supervisorVerifier() ?? undefined);
    this.limited = options.limited ?? ((address) => !isLocalAddress(address));
  }

  /** The lab certificate, made on first use (the supervisor usually made it already). */
  certificate(): Promise<LabCertificate> {
    this.certificatePromise ??= ensureLabCertificate(
      this.config.paths.tls,
      [this.config.host, this.config.publicAddress].filter((a) => !isWildcard(a)),
    );
    return this.certificatePromise;
  }

  transcript(service: ServiceName, port = this.config.portOf(service)): Transcript {
    return new Transcript(service, port, { logDir: this.config.paths.log, ...this.config.transcript });
  }

  /** The transcript session of a connection accepted by `serve`. */
  sessionOf(socket: Socket): Session | undefined {
    return this.sessions.get(socket);
  }

  /**
   * Listens on the service's port. Resolves false (and reports why) if the port cannot be bound:
   * the app's other services go on. `host` overrides the lab's host: a loopback-only API
   * (chain-api) stays on 127.0.0.1 even when the lab listens on every interface.
   */
  async serve(service: ServiceName, server: Server, host?: string): Promise<boolean> {
    const port = this.config.portOf(service);
    const listener: Listener = {
      server,
      transcript: this.transcript(service, port),
      sockets: new Set(),
      state: 'starting',
      port,
      ...(host ? { host } : {}),
      perAddress: new ConnectionsPerAddress(this.config.maxConnectionsPerAddress, (a) =>
        this.limited(plainAddress(a)),
      ),
    };
    this.listeners.set(service, listener);
    // A TLS server's sockets are only useful after the handshake: count those, as clients see them.
    const event = server instanceof TlsServer ? 'secureConnection' : 'connection';
    // Prepended, so the session exists before the protocol's own connection handler runs.
    server.prependListener(event, (socket: Socket) => this.track(listener, socket));
    return this.listen(service, listener);
  }

  private track(listener: Listener, socket: Socket): void {
    const session = listener.transcript.accepted(socket);
    this.sessions.set(socket, session);
    listener.sockets.add(socket);
    this.saveState();
    socket.once('close', () => {
      session.close();
      listener.sockets.delete(socket);
      this.saveState();
    });
    const tooMany = listener.perAddress?.admit(socket);
    if (tooMany) {
      session.server(`${tooMany}; closing (config maxConnectionsPerAddress)`);
      // After the protocol's own connection handler has run (this one runs first): to it, a client
      // that left at once, the most ordinary of ends.
      setImmediate(() => socket.destroy());
    }
  }

  /**
   * Serves a datagram service: a socket from `makeUdp` is bound to the service's port, and `tcp`,
   * when given, listens on the same number (DNS answers on both, RFC 1035 §4.2). A closed dgram
   * socket cannot be bound again, so each start (after `portlab stop dns`) makes a new one.
   * UDP has no connections: the protocol code opens a transcript session per exchange
   * (`transcript.accepted({remoteAddress, remotePort, …})`). Either bind failing fails the service,
   * with the same message as a TCP port in use.
   */
  async serveUdp(service: ServiceName, makeUdp: () => UdpSocket, tcp?: Server): Promise<boolean> {
    const port = this.config.portOf(service);
    const listener: Listener = {
      makeUdp,
      transcript: this.transcript(service, port),
      sockets: new Set(),
      state: 'starting',
      port,
    };
    if (tcp) {
      listener.server = tcp;
      tcp.prependListener('connection', (socket: Socket) => this.track(listener, socket));
    }
    this.listeners.set(service, listener);
    return this.listen(service, listener);
  }

  private async listen(service: ServiceName, listener: Listener): Promise<boolean> {
    const host = listener.host ?? this.config.host;
    try {
      // UDP first: with port 0 the kernel picks its number, and TCP then takes the same one.
      if (listener.makeUdp) {
        listener.udp = listener.makeUdp();
        listener.port = await bindUdp(listener.udp, listener.port, host);
      }
      if (listener.server) listener.port = await listenTcp(listener.server, listener.port, host);
    } catch (err) {
      const failure = err as NodeJS.ErrnoException & { transport: 'UDP' | 'TCP' };
      // A UDP socket bound before the TCP side failed must not keep the port.
      if (listener.udp) closeUdp(listener.udp);
      delete listener.udp;
      const transport = listener.makeUdp ? failure.transport : undefined;
      this.setState(service, 'failed', explainListenError(failure, service, host, listener.port, transport));
      return false;
    }
    this.setState(service, 'listening');
    return true;
  }

  /** Stops one service: no new connections, and the open ones are cut, as when a daemon is stopped. */
  async stopService(service: ServiceName): Promise<void> {
    const listener = this.listeners.get(service);
    if (listener?.state !== 'listening') return;
    const closed = new Promise<void>((resolve) =>
      listener.server ? listener.server.close(() => resolve()) : resolve(),
    );
    if (listener.udp) closeUdp(listener.udp);
    delete listener.udp;
    // Wait for each cut connection's 'close' too: that is where its transcript session is closed.
    const cut = [...listener.sockets].map(
      (socket) => new Promise((resolve) => socket.once('close', resolve)),
    );
    for (const socket of listener.sockets) socket.destroy();
    await Promise.all([closed, ...cut]);
    this.setState(service, 'stopped');
  }

  async startService(service: ServiceName): Promise<boolean> {
    const listener = this.listeners.get(service);
    if (!listener) return false;
    if (listener.state === 'listening') return true;
    return this.listen(service, listener);
  }

  /** Tells the supervisor the app has tried every port it has, and which services it runs. */
  ready(): void {
    this.report({ type: 'ready', services: [...this.listeners.keys()] });
    collectStartupGarbage();
  }

  /** Port actually bound by a service (differs from the config only when the config says 0). */
  portOf(service: ServiceName): number | undefined {
    return this.listeners.get(service)?.port;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((s) => this.stopService(s)));
    clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    this.writeState();
  }

  private setState(service: ServiceName, state: ServiceState, error?: string): void {
    const listener = this.listeners.get(service)!;
    listener.state = state;
    if (error) listener.error = error;
    else delete listener.error;
    if (state !== 'starting') listener.transcript.state(state, error);
    if (error) console.error(`[${this.app}] ${error}`);
    this.report({ type: 'service', service, state, port: listener.port, ...(error ? { error } : {}) });
    this.writeState();
  }

  /**
   * Connection counts change often: write the run file at most once a second. The write is
   * synchronous (a state change must not be overtaken by an older count), and under a stream of
   * mail, with the store's fsyncs on the same disk, each took milliseconds: at every 100 ms it held
   * the mail app's event loop about 7% of the time (a CPU profile under smtp-source).
   */
  private saveState(): void {
    this.stateTimer ??= setTimeout(() => {
      this.stateTimer = undefined;
      this.writeState();
    }, 1000);
  }

  private writeState(): void {
    const services: AppRunState['services'] = {};
    for (const [name, l] of this.listeners) {
      services[name] = {
        port: l.port,
        state: l.state,
        clients: l.sockets.size,
        ...(l.error ? { error: l.error } : {}),
      };
    }
    writeRunState(this.config.paths.run, {
      app: this.app,
      pid: process.pid,
      startedAt: this.startedAt,
      services,
    });
  }

  private report(message: AppReport): void {
    if (process.send && process.connected) process.send(message);
  }
}

/** Binds a UDP socket; resolves with the port bound (the kernel's choice for 0). */
async function bindUdp(socket: UdpSocket, port: number, host: string): Promise<number> {
  await whenListening(socket, 'UDP', () => socket.bind(port, host));
  return socket.address().port;
}

async function listenTcp(server: Server, port: number, host: string): Promise<number> {
  await whenListening(server, 'TCP', () => server.listen(port, host));
  const address = server.address();
  return address && typeof address === 'object' ? address.port : port;
}

/** Runs `start`; resolves at the 'listening' event, rejects at a first 'error' tagged with its transport. */
function whenListening(
  emitter: UdpSocket | Server,
  transport: 'UDP' | 'TCP',
  start: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      emitter.off('listening', onListening);
      reject(Object.assign(err, { transport }));
    };
    const onListening = () => {
      emitter.off('error', onError);
      resolve();
    };
    emitter.once('error', onError);
    emitter.once('listening', onListening);
    start();
  });
}

function closeUdp(socket: UdpSocket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/**
 * Starts an app process: reads the config (a bad config exits 2 with the key and the reason), wires
 * SIGTERM/SIGINT to a clean shutdown and the supervisor's orders to stop/start a service.
 */
export function startApp(app: AppName): AppRuntime {
  let config: LabConfig;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`[${app}] ${(err as Error).message}`);
    process.exit(2);
  }
  const runtime = new AppRuntime(app, config);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A connection that will not close must not keep the lab from stopping.
    setTimeout(() => process.exit(0), 2000).unref();
    void runtime.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // Under the supervisor, Ctrl-C reaches every process of the terminal at once; the supervisor
  // stops its apps itself (SIGTERM), so an app must not take the SIGINT for a crash of its own.
  process.on('SIGINT', process.send ? () => {} : stop);
  process.on('message', (order: SupervisorOrder) => {
    if (order.type === 'stop-service') void runtime.stopService(order.service);
    if (order.type === 'start-service') void runtime.startService(order.service);
  });
  // The supervisor going away (its IPC channel closing) means the lab is over.
  process.on('disconnect', stop);
  return runtime;
}
