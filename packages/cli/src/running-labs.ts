import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { type LabConfig, labConnectAddress } from '@portlab/config';
import { sendControl } from './control.js';

/**
 * Which labs run on this machine for this user. A lab started as `PORTLAB_DATA_DIR=/some/dir npm
 * start` writes its transcripts and run state there; a command typed in another terminal without
 * that variable would read the empty default data dir and report nothing, without a word. So each
 * supervisor leaves a record here while it runs, and the commands look here when no lab runs for
 * their own data dir (docs/architecture.md, "Processes").
 *
 * One file per supervisor, named by its pid, so that two labs never write the same file. The
 * folder is the user's runtime dir ($XDG_RUNTIME_DIR, private and emptied at logout), or
 * ~/.portlab/running where there is none (ssh sessions, macOS).
 */
export interface RunningLab {
  /** The supervisor's pid. */
  pid: number;
  dataDir: string;
  /** The config file the lab read, or null for the defaults alone. */
  configFile: string | null;
  host: string;
  /** The address it hands out (`--public-address`); absent in records of older labs. */
  publicAddress?: string;
  portOffset: number;
  /** The http port, for the messages: the one students know the lab by. */
  httpPort: number;
}

/** Where running labs are recorded: see above. */
export function registryDir(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime ? path.join(runtime, 'portlab') : path.join(homedir(), '.portlab', 'running');
}

/** Records the lab this process supervises; returns what removes the record at shutdown. */
export function recordRunningLab(config: LabConfig): () => void {
  const dir = registryDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${process.pid}.json`);
  const lab: RunningLab = {
    pid: process.pid,
    dataDir: config.dataDir,
    configFile: config.file,
    host: config.host,
    publicAddress: config.publicAddress,
    portOffset: config.portOffset,
    httpPort: config.portOf('http'),
  };
  writeFileSync(file, `${JSON.stringify(lab, null, 2)}\n`);
  return () => rmSync(file, { force: true });
}

/**
 * The labs whose supervisor answers now. A record is believed only if the control socket in its
 * data dir answers with the same pid: a supervisor killed without its Ctrl-C leaves its record
 * behind, and its pid may since belong to another program. Records of dead pids are removed.
 */
async function runningLabs(): Promise<RunningLab[]> {
  const dir = registryDir();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return []; // No lab ever recorded itself for this user.
  }
  const labs = await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      const lab = readRecord(file);
      if (!lab) return null;
      if (!isAlive(lab.pid)) {
        rmSync(file, { force: true });
        return null;
      }
      const reply = await sendControl(path.join(lab.dataDir, 'run'), { command: 'status' }, 2000).catch(
        () => null,
      );
      return (reply?.data as { pid?: number } | undefined)?.pid === lab.pid ? lab : null;
    }),
  );
  return labs.filter((lab) => lab !== null);
}

function readRecord(file: string): RunningLab | null {
  try {
    const lab = JSON.parse(readFileSync(file, 'utf8')) as RunningLab;
    return Number.isInteger(lab.pid) && typeof lab.dataDir === 'string' ? lab : null;
  } catch {
    return null; // Being written, or not ours: ignored, never trusted.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // Signal 0 only asks whether the process exists.
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // Exists, but another user's.
  }
}

/** The environment under which a command, and every command it runs, uses `lab`. */
export function labEnvironment(lab: RunningLab): Record<string, string> {
  const env: Record<string, string> = { PORTLAB_DATA_DIR: lab.dataDir };
  if (lab.configFile) env.PORTLAB_CONFIG = lab.configFile;
  env.PORTLAB_HOST = lab.host;
  // `portlab up --public-address` is not in the config file: without it, a command in another
  // terminal would work out another address for a lab on 0.0.0.0.
  if (lab.publicAddress) env.PORTLAB_PUBLIC_ADDRESS = lab.publicAddress;
  env.PORTLAB_PORT_OFFSET = String(lab.portOffset);
  return env;
}

/**
 * The shortest prefix that points a command at `lab` from the config it has now: the data dir
 * always, the config file, host or offset only where they differ.
 */
function labPrefix(lab: RunningLab, current: LabConfig): string {
  const parts = [`PORTLAB_DATA_DIR=${lab.dataDir}`];
  if (lab.configFile && lab.configFile !== current.file) parts.push(`PORTLAB_CONFIG=${lab.configFile}`);
  if (lab.host !== current.host) parts.push(`PORTLAB_HOST=${lab.host}`);
  if (lab.publicAddress && lab.publicAddress !== current.publicAddress)
    parts.push(`PORTLAB_PUBLIC_ADDRESS=${lab.publicAddress}`);
  if (lab.portOffset !== current.portOffset) parts.push(`PORTLAB_PORT_OFFSET=${lab.portOffset}`);
  return parts.join(' ');
}

/** The services of `config` whose port accepts a connection now (someone's lab listens there). */
async function answeringServices(config: LabConfig): Promise<string[]> {
  const answers = await Promise.all(
    config.services.map(
      (s) =>
        new Promise<boolean>((resolve) => {
          const socket = connect({ host: labConnectAddress(config), port: s.port, timeout: 1000 }, () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('timeout', () => socket.destroy());
          socket.on('error', () => resolve(false));
          socket.on('close', () => resolve(false));
        }),
    ),
  );
  return config.services.filter((_, i) => answers[i]).map((s) => `${s.name} ${s.port}`);
}

/** What a command does about the lab it is about to read: use its own, or the one running. */
export interface LabChoice {
  /** The lab to use: another data dir's, or its own started with --host / --public-address. */
  use?: RunningLab;
  /** One or more lines for the person at the terminal (stderr). */
  message?: string;
  /** No way to choose without asking: the message says how to, and the command stops. */
  ambiguous?: boolean;
}

/**
 * Before a command reads transcripts or run state: is a lab running for its data dir? If not, and
 * the person did not name a data dir or config file, the one lab running elsewhere is used (and
 * named). A data dir or config file named in the environment is always obeyed; then the command
 * only warns when the lab's ports answer anyway, since what it reads here says nothing of them.
 * `command` is the command line to show in the hints.
 */
export async function chooseLab(
  config: LabConfig,
  env: NodeJS.ProcessEnv,
  command: string,
): Promise<LabChoice> {
  const own = await sendControl(config.paths.run, { command: 'status' }, 2000).then(
    () => true,
    () => false,
  );
  if (own) {
    // `portlab up --host/--public-address` are flags, in no config file: a command typed in another
    // terminal takes them from the lab's record, or it would connect to and hand out other addresses.
    const mine = (await runningLabs()).find((lab) => lab.dataDir === config.dataDir);
    const differs =
      mine &&
      (mine.host !== config.host || (mine.publicAddress && mine.publicAddress !== config.publicAddress));
    return differs ? { use: mine } : {};
  }
  const others = (await runningLabs()).filter((lab) => lab.dataDir !== config.dataDir);
  const named = Boolean(env.PORTLAB_DATA_DIR || env.PORTLAB_CONFIG);
  const ways = others.map((lab) => `  ${labPrefix(lab, config)} ${command}`).join('\n');
  if (!named && others.length === 1) {
    const lab = others[0]!;
    return {
      use: lab,
      message: `portlab: no lab runs for ${config.dataDir}; using the one running for ${lab.dataDir} (http port ${lab.httpPort}, pid ${lab.pid}).`,
    };
  }
  if (!named && others.length > 1) {
    return {
      ambiguous: true,
      message: `portlab: no lab runs for ${config.dataDir}, and ${others.length} run elsewhere. Say which one:\n${ways}`,
    };
  }
  const answering = await answeringServices(config);
  if (answering.length === 0) return {};
  const shown = answering.length > 3 ? `${answering.slice(0, 3).join(', ')}, …` : answering.join(', ');
  const how = others.length
    ? `Point at the running lab:\n${ways}`
    : `Point at it with the data dir it was started with: PORTLAB_DATA_DIR=<that dir> ${command}`;
  return {
    message:
      `portlab: no lab runs for the data dir ${config.dataDir}, yet its ports answer (${shown}): ` +
      `a lab started with another data dir listens there, and keeps its transcripts and run state there, ` +
      `not here. ${how}`,
  };
}
