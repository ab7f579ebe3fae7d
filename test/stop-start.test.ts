import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { canConnect, type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type RunningLab, startLab } from './apps.js';

/**
 * The flow "`portlab stop https`" (docs/architecture.md): CLI -> control socket -> supervisor ->
 * IPC `stop-service` -> the web app closes that listener and cuts its connections -> the run file
 * says `stopped` -> `portlab ports` shows `no`; and `portlab start https` undoes it. The real
 * supervisor (`portlab up`) and apps, on the free ports of a temp lab.
 */

let lab: TempLab;
let up: RunningLab;
beforeAll(async () => {
  lab = await tempLab();
  up = await startLab(lab);
});
afterAll(async () => {
  await up?.stop();
  lab?.cleanup();
});

function portlab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { env: lab.env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

function httpsState(): string | undefined {
  const run = JSON.parse(readFileSync(path.join(lab.dataDir, 'run', 'web.json'), 'utf8'));
  return run.services.https?.state;
}

/** An HTTPS connection kept open after one request (keep-alive), and the status line it got. */
async function openHttps(): Promise<{ socket: tls.TLSSocket; status: string; closed: Promise<void> }> {
  const socket = tls.connect({ port: lab.ports.https, host: '127.0.0.1', rejectUnauthorized: false });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined); // cut by the server: expected
  socket.write('GET /healthz HTTP/1.1\r\nHost: lab.test\r\nConnection: keep-alive\r\n\r\n');
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d;
  });
  await waitFor(() => text.includes('\r\n\r\n'), { what: 'an answer over HTTPS' });
  return { socket, status: text.split('\r\n')[0]!, closed };
}

describe('portlab stop https, then start https', () => {
  it('closes the listener and cuts its connections; the run file and `portlab ports` say so; http goes on', async () => {
    const open = await openHttps();
    expect(open.status).toBe('HTTP/1.1 200 OK');
    expect(httpsState()).toBe('listening');

    const stop = await portlab('stop', 'https');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/https stopped/);
    await open.closed; // cut by the web app, not left to time out
    expect(await canConnect(lab.ports.https)).toBe(false);
    // The web app reports to the supervisor, then writes its run file: waited for, not raced.
    await waitFor(() => httpsState() === 'stopped', { what: "web.json to say https 'stopped'" });
    const ports = await portlab('ports');
    expect(ports.stdout).toMatch(new RegExp(`https\\s+HTTPS?\\s+${lab.ports.https}\\s+443\\s+\\S+\\s+no`));
    expect(await canConnect(lab.ports.http)).toBe(true); // the same app's other service

    const start = await portlab('start', 'https');
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(new RegExp(`https listening on port ${lab.ports.https}`));
    await waitFor(() => httpsState() === 'listening', { what: "web.json to say https 'listening'" });
    const again = await openHttps();
    expect(again.status).toBe('HTTP/1.1 200 OK');
    again.socket.destroy();
  });
});
