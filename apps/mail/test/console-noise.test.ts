/**
 * A connection that ends before its TLS handshake (`portlab probe`, a port scan, `nc -z`) is one
 * client's business, as a reset is: the mail app's console (the lab's terminal, which the teacher
 * watches) must not print it as an error. smtp-server names the client of a failed handshake in
 * `err.meta.remoteAddress`, not `err.remoteAddress` (lib/smtp-server.js, normalizeTLSError).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let lab: TempLab;
let app: ChildProcess;
let stderr = '';

beforeAll(async () => {
  lab = await tempLab();
  app = fork(main, [], { env: lab.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  app.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    app.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    app.once('exit', (code) => reject(new Error(`the mail app exited with ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (app.exitCode === null) {
    const exited = new Promise((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    await exited;
  }
  lab.cleanup();
});

/**
 * Opens a TCP connection to `port`, writes `bytes` (if any) or nothing, closes its side, and waits
 * until the connection is closed (the server's answer to garbage where TLS is expected is an alert
 * and a close; to a close before any byte, its own close).
 */
function touch(port: number, bytes?: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => (bytes === undefined ? socket.end() : socket.end(bytes)));
    socket.on('error', () => resolve()); // a reset is an end too
    socket.on('close', () => resolve());
    socket.resume(); // read whatever comes (an alert, a greeting), so that the close is seen
  });
}

describe('the mail console', () => {
  it('says nothing when a client leaves SMTPS before or during the TLS handshake', async () => {
    for (let i = 0; i < 3; i++) await touch(lab.ports.smtps); // as `portlab probe` does
    await touch(lab.ports.smtps, 'EHLO not-tls\r\n'); // plain text where TLS is expected
    // Then a plain SMTP session to the end, so that the server has handled the connections above.
    await touch(lab.ports.smtp, 'QUIT\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stderr).not.toMatch(/\[mail\] smtps:/);
  });
});
