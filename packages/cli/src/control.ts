import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
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
  const server = createServer((socket) => {
    let input = '';
    socket.on('data', (chunk) => {
      input += chunk;
      const end = input.indexOf('\n');
      if (end < 0) {
        if (input.length > 4096) socket.destroy();
        return;
      }
      let request: ControlRequest;
      try {
        request = JSON.parse(input.slice(0, end)) as ControlRequest;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, message: 'not a JSON request' })}\n`);
        return;
      }
      void handle(request).then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return server;
}
