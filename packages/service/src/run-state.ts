import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppName, LabConfig, ServiceName } from '@portlab/config';

export type ServiceState = 'starting' | 'listening' | 'stopped' | 'failed';

/** What an app says of itself in $DATA/run/<app>.json: how `portlab ports` and the web app know. */
export interface AppRunState {
  app: AppName;
  pid: number;
  startedAt: string;
  services: Partial<
    Record<ServiceName, { port: number; state: ServiceState; error?: string; clients: number }>
  >;
}

export function runStateFile(runDir: string, app: AppName): string {
  return path.join(runDir, `${app}.json`);
}

export function writeRunState(runDir: string, state: AppRunState): void {
  mkdirSync(runDir, { recursive: true });
  const file = runStateFile(runDir, state.app);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

export function readRunState(runDir: string, app: AppName): AppRunState | null {
  try {
    return JSON.parse(readFileSync(runStateFile(runDir, app), 'utf8')) as AppRunState;
  } catch {
    return null;
  }
}

/** True if a process with this pid exists: a run file left by a killed app must not say "listening". */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ServiceStatus {
  name: ServiceName;
  app: AppName;
  protocol: string;
  port: number;
  standardPort: number;
  tls: string;
  description: string;
  /** 'tcp', or 'udp+tcp' for DNS: the dashboard's card and `portlab ports` say it. */
  transport: 'tcp' | 'udp+tcp';
  listening: boolean;
  clients: number;
  /** Why it is not listening, when it tried and failed (a port in use). */
  error?: string;
}

/** Every runnable service of the lab with what its app last said of it. */
export function serviceStatuses(config: LabConfig): ServiceStatus[] {
  const states = new Map<AppName, AppRunState | null>();
  return config.services.map((spec) => {
    if (!states.has(spec.app)) {
      const state = readRunState(config.paths.run, spec.app);
      states.set(spec.app, state && isAlive(state.pid) ? state : null);
    }
    const own = states.get(spec.app)?.services[spec.name];
    const listening = own?.state === 'listening';
    return {
      name: spec.name,
      app: spec.app,
      protocol: spec.protocol,
      port: own?.port || spec.port,
      standardPort: spec.standardPort,
      tls: spec.tls,
      description: spec.description,
      transport: spec.transport ?? 'tcp',
      listening,
      clients: listening ? (own?.clients ?? 0) : 0,
      ...(own?.error ? { error: own.error } : {}),
    };
  });
}
