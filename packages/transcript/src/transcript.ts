import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  type ConnectionEvent,
  type Direction,
  endpoint,
  type Flag,
  type LineData,
  type LoginEvent,
  type TranscriptEvent,
} from './events.js';
import { LogFile, type RotateOptions } from './log-file.js';
import { summarizeLine } from './summarize.js';

export interface TranscriptOptions extends Partial<RotateOptions> {
  /** $DATA/log: one <service>.ndjson per service. */
  logDir: string;
  /** Lines longer than this are cut (see summarize.ts). */
  maxLineLength?: number;
  /**
   * The machine this transcript speaks for, "ip:port", when one process plays several (the
   * simulated peers of `portlab p2p swarm`): written on its connection events so that a viewer
   * draws each as its own node. Without it, a viewer groups connections by process.
   */
  node?: string;
}

/** The part of a socket a transcript needs: both endpoints. */
export interface SocketLike {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

/** One log file per path in this process, whoever asks for it. */
const files = new Map<string, LogFile>();
process.on('exit', () => {
  for (const file of files.values()) file.close();
});

/** Session ids are unique across processes: a per-process prefix and a counter. */
const processTag = randomBytes(3).toString('hex');
let sessionCounter = 0;

/**
 * The transcript of one service: `transcript.accepted(socket)` opens a session for a connection the
 * service accepted; the session then records each line said, and the close.
 */
export class Transcript {
  private readonly file: LogFile;
  private readonly maxLineLength: number;
  /** @internal */
  readonly node: string | undefined;

  constructor(
    readonly service: string,
    readonly port: number,
    options: TranscriptOptions,
  ) {
    const file = path.join(options.logDir, `${service}.ndjson`);
    let log = files.get(file);
    if (!log) {
      log = new LogFile(file, {
        rotateBytes: options.rotateBytes ?? 8 * 1024 * 1024,
        keep: options.keep ?? 3,
      });
      files.set(file, log);
    }
    this.file = log;
    this.maxLineLength = options.maxLineLength ?? 400;
    this.node = options.node;
  }

  /** A client connected to this service. */
  accepted(socket: SocketLike): Session {
    const peer = endpoint(socket.remoteAddress, socket.remotePort);
    const local = endpoint(socket.localAddress, socket.localPort);
    return new Session(this, peer, { from: peer, to: local, role: 'server' });
  }

  /** This process connected out, as a client (a BitTorrent peer dialling another peer). */
  connected(socket: SocketLike): Session {
    const peer = endpoint(socket.remoteAddress, socket.remotePort);
    const local = endpoint(socket.localAddress, socket.localPort);
    return new Session(this, peer, { from: local, to: peer, role: 'client' }, socket.remotePort);
  }

  state(state: 'listening' | 'stopped' | 'failed', message?: string): void {
    this.write({
      type: 'service',
      service: this.service,
      port: this.port,
      state,
      ...(message ? { message } : {}),
    });
  }

  /** @internal */
  write(event: DistributiveOmit<TranscriptEvent, 'ts'>): void {
    this.file.append(JSON.stringify({ ts: timestamp(), ...event }));
  }

  /**
   * @internal A line event already written as JSON but for its time: `rest` is what follows
   * `"ts":"..."` (see Session.line). The same text as write() would make, at a fraction of the cost.
   */
  writeRaw(rest: string): void {
    this.file.append(`{"ts":"${timestamp()}",${rest}`);
  }

  /** @internal */
  summarize(line: string): { line: string; truncated: boolean } {
    return summarizeLine(line, this.maxLineLength);
  }

  /** Writes pending events now (tests and shutdown; normal writes go out on the next tick). */
  flush(): void {
    this.file.flush();
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * The time of an event, ISO 8601 with milliseconds, formatted once per millisecond: a FETCH of a
 * hundred bodies writes three hundred events within a few milliseconds (issue #20).
 */
let lastMs = Number.NaN;
let lastTs = '';
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTs = new Date(now).toISOString();
  }
  return lastTs;
}

/** One connection's conversation. */
export class Session {
  readonly id = `${processTag}.${(++sessionCounter).toString(36)}`;
  private closed = false;
  /**
   * What every line event of this session says after its time and before its direction, as JSON:
   * `"type":"line","service":...,"peer":"..."`. A line event is then one JSON.stringify of its
   * text, not of a new object of eight keys.
   */
  private linePrefix: string | null = null;

  constructor(
    private readonly transcript: Transcript,
    readonly peer: string,
    private readonly ends: Pick<ConnectionEvent, 'from' | 'to' | 'role'>,
    readonly port = transcript.port,
  ) {
    this.connection('open');
  }

  /** The client said `line`; `data` is the same fact for programs (see LineData). */
  client(line: string, flags?: Flag[], data?: LineData): void {
    this.line('C', line, flags, data);
  }

  /** The server said `line`. */
  server(line: string, flags?: Flag[], data?: LineData): void {
    this.line('S', line, flags, data);
  }

  line(dir: Direction, text: string, flags: Flag[] = [], data?: LineData): void {
    const { line, truncated } = this.transcript.summarize(text);
    const all: Flag[] = truncated ? [...flags, 'truncated'] : flags;
    // The text JSON.stringify would make of the LineEvent, its keys in this order: ts, type,
    // service, port, session, peer, dir, line, flags?, data?.
    this.linePrefix ??= JSON.stringify({
      type: 'line',
      service: this.transcript.service,
      port: this.port,
      session: this.id,
      peer: this.peer,
    }).slice(1, -1);
    let rest = `${this.linePrefix},"dir":"${dir}","line":${JSON.stringify(line)}`;
    if (all.length) rest += `,"flags":${JSON.stringify(all)}`;
    if (data) rest += `,"data":${JSON.stringify(data)}`;
    this.transcript.writeRaw(`${rest}}`);
  }

  /**
   * The client tried to log in as `user` (the account name, or null if the login names none); `ok`
   * if the password was right. Call it for each try, failed ones too, after the lines that carried
   * the password: a viewer attributes those lines to this account (see LoginEvent). `via`: no
   * password, an access token acted for the account (the chat app).
   */
  login(user: string | null, ok: boolean, via?: LoginEvent['via']): void {
    this.transcript.write({
      type: 'login',
      service: this.transcript.service,
      port: this.port,
      session: this.id,
      peer: this.peer,
      user,
      ok,
      ...(via ? { via } : {}),
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection('close');
  }

  private connection(type: 'open' | 'close'): void {
    this.transcript.write({
      type,
      service: this.transcript.service,
      port: this.port,
      session: this.id,
      peer: this.peer,
      ...this.ends,
      ...(this.transcript.node ? { node: this.transcript.node } : {}),
    });
  }
}
