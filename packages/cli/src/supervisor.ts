import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import path from 'node:path';
import {
  APPS,
  type AppName,
  ensureLabCertificate,
  isWildcard,
  type LabConfig,
  REPO_ROOT,
  type ServiceName,
  servicesOf,
  UserStore,
} from '@portlab/config';
import {
  type AppReport,
  AUTH_FROM_SUPERVISOR,
  appEnv,
  appNodeFlags,
  collectStartupGarbage,
  type ServiceState,
  SharedAuth,
  type SupervisorOrder,
} from '@portlab/service';
import { type ControlReply, type ControlRequest, controlSocketPath, serveControl } from './control.js';
import { recordRunningLab, registryDir } from './running-labs.js';

interface ServiceInfo {
  state: ServiceState;
  port: number;
  error?: string;
}

interface AppProcess {
  name: AppName;
  child: ChildProcess | null;
  /** Stopped on purpose (`portlab stop`, Ctrl-C): not restarted. */
  wanted: boolean;
  services: Map<ServiceName, ServiceInfo>;
  restarts: number;
  startedAt: number;
  ready: Promise<void>;
}

export interface SupervisorOptions {
  config: LabConfig;
  /** Where messages for the person at the terminal go. */
  log?: (line: string) => void;
  /** Where the app entry points are: apps/<name>/dist/main.js (tests point elsewhere). */
  appMain?: (app: AppName) => string;
  apps?: readonly AppName[];
}

/**
 * How long an app may take to try its ports before the table is printed without it. Seven apps
 * start at once; on a loaded 2-core machine (a class PC running other things, or CI) one took over
 * 15 s to load its code, and `up` then printed "4 of 18 services listening" for apps that were only
 * slow. Only an app that hangs should meet this limit.
 */
const READY_TIMEOUT_MS = 60_000;

/**
 * `portlab up`: every app is its own process, as real daemons are. The supervisor starts them,
 * waits until each has tried its ports, restarts one that crashes (and says so), and leaves alone
 * one stopped on purpose. Apps report over Node's IPC channel; people steer it over the control
 * socket (`portlab stop ftp`).
 */
export class Supervisor {
  private readonly apps = new Map<AppName, AppProcess>();
  private control: Server | null = null;
  /** Removes this lab from the user's list of running labs (src/running-labs.ts). */
  private unrecord: (() => void) | null = null;
  private shuttingDown = false;
  /** The apps' password checks, one cache for all (packages/service shared-auth.ts). */
  private readonly auth = new SharedAuth();
  private readonly log: (line: string) => void;
  private readonly appMain: (app: AppName) => string;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    this.appMain = options.appMain ?? ((app) => path.join(REPO_ROOT, 'apps', app, 'dist', 'main.js'));
  }

  /** Makes what every app needs once (accounts, certificate), then starts them all. */
  async start(): Promise<void> {
    const { config } = this.options;
    if (await new UserStore(config.paths.users).ensure()) {
      this.log(`Created ${config.paths.users} with the demo accounts alice and bob (${config.domain}).`);
    }
    const cert = await ensureLabCertificate(
      config.paths.tls,
      [config.host, config.publicAddress].filter((a) => !isWildcard(a)),
    );
    if (cert.created) this.log(`Created the lab certificate in ${config.paths.tls}/ (self-signed).`);
    // Last of the preparations: a failure above leaves no socket open to keep the process alive.
    this.control = await serveControl(config.paths.run, (request) => this.handle(request));
    // Once the socket answers, so that a command that finds the record can always check it.
    try {
      this.unrecord = recordRunningLab(config);
    } catch (err) {
      this.log(
        `Could not record this lab in ${registryDir()} (${(err as Error).message}): commands typed ` +
          `without PORTLAB_DATA_DIR=${config.dataDir} will not find it.`,
      );
    }
    for (const name of this.options.apps ?? APPS) this.spawn(name);
    await Promise.all([...this.apps.values()].map((a) => a.ready));
    // What making the accounts and the certificate left in our heap (packages/service node-flags.ts).
    collectStartupGarbage();
  }

  /** Every service the supervisor knows, with its state now. */
  services(): { app: AppName; service: ServiceName; info: ServiceInfo }[] {
    return [...this.apps.values()].flatMap((a) =>
      [...a.services].map(([service, info]) => ({ app: a.name, service, info })),
    );
  }

  private spawn(name: AppName): AppProcess {
    const existing = this.apps.get(name);
    const app: AppProcess = existing ?? {
      name,
      child: null,
      wanted: true,
      restarts: 0,
      startedAt: 0,
      services: new Map(
        servicesOf(name).map((s) => [
          s.name,
          { state: 'starting', port: this.options.config.portOf(s.name) },
        ]),
      ),
      ready: Promise.resolve(),
    };
    app.wanted = true;
    app.startedAt = Date.now();
    for (const info of app.services.values()) info.state = 'starting';
    const child = fork(this.appMain(name), [AUTH_FROM_SUPERVISOR], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // V8 flags that keep an idle app small (packages/service node-flags.ts).
      execArgv: [...process.execArgv, ...appNodeFlags(name)],
      // One malloc arena (MALLOC_ARENA_MAX=1) unless the user chose: same place, same reason.
      env: appEnv(),
    });
    child.on('message', (message: AppReport) => this.auth.handle(child, message));
    app.child = child;
    app.ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, READY_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      child.on('message', (report: AppReport) => {
        if (report.type === 'ready') {
          // An app may not run every service of the plan yet: forget the ones it did not serve.
          for (const service of app.services.keys()) {
            if (!report.services.includes(service)) app.services.delete(service);
          }
          done();
        }
        if (report.type === 'service') {
          const info: ServiceInfo = { state: report.state, port: report.port };
          if (report.error) info.error = report.error;
          app.services.set(report.service, info);
        }
      });
      child.once('exit', done);
    });
    child.once('exit', (code, signal) => this.exited(app, child, code, signal));
    this.apps.set(name, app);
    return app;
  }

  private exited(
    app: AppProcess,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (app.child !== child) return;
    app.child = null;
    for (const info of app.services.values()) info.state = 'stopped';
    if (!app.wanted || this.shuttingDown) return;
    if (code === 2) {
      // Exit code 2 is a config error: starting again would fail the same way.
      this.log(`${app.name} exited with a configuration error (see above); not restarting it.`);
      app.wanted = false;
      return;
    }
    // Restart at once the first time, then back off, so a crash loop does not eat the machine.
    const upFor = Date.now() - app.startedAt;
    if (upFor > 60_000) app.restarts = 0;
    const delay = Math.min(250 * 2 ** app.restarts, 30_000);
    app.restarts++;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.log(
      `${app.name} crashed (${how}); restarting it in ${(delay / 1000).toFixed(2)} s (restart ${app.restarts}).`,
    );
    setTimeout(() => {
      if (app.wanted && !app.child && !this.shuttingDown) {
        this.spawn(app.name);
        void app.ready.then(() => {
          // The new process may have died before it was ready: then its own crash line says so.
          if (app.child) this.log(`${app.name} restarted (pid ${app.child.pid}).`);
        });
      }
    }, delay).unref(); // A pending restart must not keep a stopped supervisor alive.
  }

  /** Valid names for stop/start: an app (the whole process) or one service inside it (dns is both: the app). */
  validNames(): string[] {
    const services = [...this.apps.values()].flatMap((a) => [...a.services.keys()]);
    return [...new Set([...this.apps.keys(), ...services])];
  }

  private async handle(request: ControlRequest): Promise<ControlReply> {
    if (request.command === 'status') {
      return {
        ok: true,
        message: 'running',
        data: {
          pid: process.pid,
          apps: [...this.apps.values()].map((a) => ({
            name: a.name,
            pid: a.child?.pid ?? null,
            running: a.child !== null,
            services: Object.fromEntries(a.services),
          })),
        },
      };
    }
    const name = request.name ?? '';
    const app = this.apps.get(name as AppName);
    const owner = [...this.apps.values()].find((a) => a.services.has(name as ServiceName));
    if (!app && !owner) {
      return {
        ok: false,
        message: `unknown service '${name}'. Valid names: ${this.validNames().join(', ')}`,
      };
    }
    if (request.command === 'stop')
      return app ? this.stopApp(app) : this.order(owner!, name as ServiceName, 'stop');
    return app ? this.startApp(app) : this.order(owner!, name as ServiceName, 'start');
  }

  private async stopApp(app: AppProcess): Promise<ControlReply> {
    app.wanted = false;
    if (!app.child) return { ok: true, message: `${app.name} is already stopped` };
    await this.terminate(app.child);
    this.log(`${app.name} stopped on request.`);
    return {
      ok: true,
      message: `${app.name} stopped (${[...app.services.keys()].join(', ')} no longer listening)`,
    };
  }

  private async startApp(app: AppProcess): Promise<ControlReply> {
    if (app.child) return { ok: true, message: `${app.name} is already running` };
    app.restarts = 0;
    this.spawn(app.name);
    await app.ready;
    this.log(`${app.name} started on request.`);
    return { ok: true, message: `${app.name} started: ${this.describe(app)}` };
  }

  /** Stops or starts one service inside a running app, over the app's IPC channel. */
  private async order(app: AppProcess, service: ServiceName, verb: 'stop' | 'start'): Promise<ControlReply> {
    if (!app.child?.connected) {
      return {
        ok: false,
        message: `${service} belongs to ${app.name}, which is stopped: start it with 'portlab start ${app.name}'`,
      };
    }
    const want: ServiceState = verb === 'stop' ? 'stopped' : 'listening';
    const current = app.services.get(service)!;
    if (current.state === want) return { ok: true, message: `${service} is already ${want}` };
    if (verb === 'stop' && current.state !== 'listening') {
      return { ok: true, message: `${service} is not listening (${current.state}): nothing to stop` };
    }
    const child = app.child;
    // The app answers with the service's new state; if it dies first, its exit is the answer.
    const reply = new Promise<ServiceInfo>((resolve) => {
      const done = () => {
        child.off('message', onMessage);
        child.off('exit', done);
        resolve(app.services.get(service)!);
      };
      const onMessage = (report: AppReport) => {
        if (report.type === 'service' && report.service === service && report.state !== 'starting') done();
      };
      child.on('message', onMessage);
      child.once('exit', done);
    });
    const order: SupervisorOrder = { type: verb === 'stop' ? 'stop-service' : 'start-service', service };
    child.send(order);
    const info = await reply;
    this.log(`${service} (${app.name}) ${info.state} on request.`);
    return {
      ok: info.state === want,
      message:
        info.error ?? `${service} ${info.state}${info.state === 'listening' ? ` on port ${info.port}` : ''}`,
    };
  }

  private describe(app: AppProcess): string {
    return [...app.services]
      .map(([s, i]) => `${s} ${i.state}${i.state === 'listening' ? ` on ${i.port}` : ''}`)
      .join(', ');
  }

  private terminate(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Ctrl-C: stop every app, wait for them, remove the control socket. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [...this.apps.values()].map((app) => {
        app.wanted = false;
        return app.child ? this.terminate(app.child) : undefined;
      }),
    );
    this.unrecord?.();
    this.control?.close();
    rmSync(controlSocketPath(this.options.config.paths.run), { force: true });
  }
}
