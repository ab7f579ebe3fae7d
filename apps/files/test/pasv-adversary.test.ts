import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilesApp, RawFtp, startFiles } from './helpers.js';

let app: FilesApp;

beforeAll(async () => {
  app = await startFiles();
});
afterAll(() => app?.stop());

/** A TCP connection from `localAddress` (another PC of the class: any 127.x address on loopback). */
async function dial(port: number, localAddress: string): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

function everything(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c) => (text += c)).on('error', () => resolve(text));
    socket.on('close', () => resolve(text));
  });
}

describe('passive port stealing (RFC 2577 §8, CVE-1999-0351 "pizza thief")', () => {
  it("a classmate who dials a session's passive port first gets nothing, and the session goes on", async () => {
    const raw = await RawFtp.connect(app.ftp);
    await raw.login();
    const reply = await raw.send('EPSV');
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(reply)?.[1]);
    // Another PC of the class (127.0.0.2) scans the passive range and gets there first.
    const thief = await dial(port, '127.0.0.2');
    expect(await everything(thief)).toBe('');
    // The session's own client connects after: its listing comes, on a control connection still open.
    const data = await dial(port, '127.0.0.1');
    const listing = everything(data);
    expect(await raw.send('NLST')).toMatch(/^150/);
    expect(await raw.reply()).toMatch(/^226/);
    expect(await listing).toContain('public_html');
    expect(await raw.send('PWD')).toMatch(/^257/);
    raw.close();
  });
});
