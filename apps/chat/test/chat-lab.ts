import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { UserStore } from '@portlab/config';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A temp lab running the real chat app (dist/main.js) as `portlab up` runs it, with alice and bob. */
export interface ChatLab {
  lab: TempLab;
  /** http://127.0.0.1:<matrix port> */
  base: string;
  /** https://127.0.0.1:<matrix-tls port> */
  tlsBase: string;
  /** The server name in user ids: 127.0.0.1:<matrix-tls port>. */
  serverName: string;
  app: ChildProcess;
  output: () => string;
  /** Starts the app again on the same lab (after it was stopped or killed). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startChat(extra: Parameters<typeof tempLab>[0] = {}): Promise<ChatLab> {
  const lab = await tempLab(extra);
  await new UserStore(`${lab.dataDir}/users.json`).ensure();
  let output = '';
  const launch = async () => {
    output = '';
    const app = fork(main, [], { env: lab.env, stdio: 'pipe' });
    app.stdout?.on('data', (d) => (output += d));
    app.stderr?.on('data', (d) => (output += d));
    // main.ts says the server name once both ports are served.
    await waitFor(() => output.includes('Matrix server name') || app.exitCode !== null, {
      what: 'the chat app to serve 8008 and 8448',
    });
    if (app.exitCode !== null) throw new Error(`the chat app exited: ${output}`);
    return app;
  };
  const base = `http://127.0.0.1:${lab.ports.matrix}`;
  const first = await launch();
  labCa = readFileSync(`${lab.dataDir}/tls/cert.pem`);
  const chat: ChatLab = {
    lab,
    base,
    tlsBase: `https://127.0.0.1:${lab.ports['matrix-tls']}`,
    serverName: `127.0.0.1:${lab.ports['matrix-tls']}`,
    app: first,
    output: () => output,
    async restart() {
      chat.app = await launch();
    },
    async stop() {
      const app = chat.app;
      if (app.exitCode === null && app.signalCode === null) {
        app.kill('SIGTERM');
        await new Promise((resolve) => app.once('exit', resolve));
      }
      lab.cleanup();
    },
  };
  return chat;
}

/** The lab certificate (its own CA), to trust 8448 the way a configured client does. */
let labCa: Buffer | undefined;

/** A JSON request to the server (HTTP, or HTTPS trusting the lab certificate): status and parsed body. */
export async function api(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; newConnection?: boolean } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const payload =
    options.raw !== undefined
      ? options.raw
      : options.body !== undefined
        ? JSON.stringify(options.body)
        : undefined;
  const url = new URL(path, base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const text = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const tls = url.protocol === 'https:' ? { ca: labCa } : {};
    const agent = options.newConnection ? { agent: false as const } : {};
    const req = send(url, { method, headers, ...tls, ...agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
  return { status: text.status, body: text.text ? JSON.parse(text.text) : {} };
}

/** Logs a lab account in with its password; the access token. */
export async function login(base: string, user: string, password: string): Promise<string> {
  const { status, body } = await api(base, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password },
  });
  if (status !== 200) throw new Error(`login ${user}: ${status} ${JSON.stringify(body)}`);
  return body.access_token as string;
}
