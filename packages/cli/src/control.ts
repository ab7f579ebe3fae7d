import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';

/**
 * The supervisor's control socket, $DATA/run/portlab.sock: `portlab stop ftp` in another terminal
 * sends one JSON line and reads one JSON line back. A Unix socket, so only this machine's users
 * with access to the data dir can steer the lab.
 */
export interface ControlRequest {
  command: 'status' | 'stop' | 'start';
  name?: string;
}

export interface ControlReply {
  ok: boolean;
  message: string;
  data?: unknown;
}

export function controlSocketPath(runDir: string): string {
  return path.join(runDir, 'portlab.sock');
}

export class NotRunningError extends Error {}

export function sendControl(
  runDir: string,
  request: ControlRequest,
  timeoutMs = 10_000,
): Promise<ControlReply> {
  const socketPath = controlSocketPath(runDir);
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let input = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('the supervisor did not answer in time')));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk) => {
      input += chunk;
      const end = input.indexOf('\n');
      if (end >= 0) {
        socket.end();
        resolve(JSON.parse(input.slice(0, end)) as ControlReply);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(
          new NotRunningError(
            `portlab is not running for this data dir (no supervisor at ${socketPath}). Start it with: npm start`,
          ),
        );
      } else reject(err);
    });
  });
}

/** Listens on the control socket; refuses if another supervisor already answers there. */
export async function serveControl(
  runDir: string,
  handle: (request: ControlRequest) => Promise<ControlReply>,
): Promise<Server> {
  const socketPath = controlSocketPath(runDir);
  mkdirSync(runDir, { recursive: true });
  if (existsSync(socketPath)) {
    const alive = await sendControl(runDir, { command: 'status' }, 1000).then(
      () => true,
      () => false,
    );
    if (alive)
      throw new Error(
        `portlab is already running for this data dir (${socketPath}); stop it first (Ctrl-C in its terminal).`,
      );
    rmSync(socketPath, { force: true }); // Left by a supervisor that was killed.
  }
  const answer = (socket: Socket, reply: ControlReply) => socket.end(`${JSON.stringify(reply)}\n`);
  const server = createServer((socket) => {
    let input = '';
    const onData = (chunk: Buffer) => {
      input += chunk;
      const end = input.indexOf('\n');
      if (end < 0) {
        if (input.length > 4096) socket.destroy();
        return;
      }
      socket.off('data', onData); // One request per connection: what follows the line is ignored.
      const request = parseRequest(input.slice(0, end));
      if (!request) return answer(socket, { ok: false, message: 'not a control request' });
      // Whatever goes wrong with one request must not stop the supervisor, and so the lab.
      handle(request).then(
        (reply) => answer(socket, reply),
        (err: Error) => answer(socket, { ok: false, message: err.message }),
      );
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return server;
}

/** A request as the CLI sends it, or null: anything else on the socket is refused, not trusted. */
function parseRequest(line: string): ControlRequest | null {
  try {
    const value = JSON.parse(line) as Partial<ControlRequest> | null;
    if (!value || !['status', 'stop', 'start'].includes(value.command as string)) return null;
    if (value.name !== undefined && typeof value.name !== 'string') return null;
    return value as ControlRequest;
  } catch {
    return null;
  }
}
