import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { waitFor } from '@portlab/testkit';
import { FTPError } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilesApp, leftoverUploads, login, RawFtp, readByServer, run, startFiles } from './helpers.js';

const QUOTA = 1_000_000;
const MAX_CONNECTIONS = 6;
let app: FilesApp;
let secureApp: FilesApp;
/** A session that says nothing after the greeting: the idle timeout must close it (checked last). */
let idle: RawFtp;
let idleReplies: Promise<string[]>;

beforeAll(async () => {
  [app, secureApp] = await Promise.all([
    startFiles(
      { files: { quotaBytes: QUOTA, maxConnectionsPerAddress: MAX_CONNECTIONS } },
      3, // three data ports: the range runs out with a fourth transfer
    ),
    startFiles({ files: { requireTls: true, idleTimeoutSeconds: 10 } }),
  ]);
  idle = await RawFtp.connect(secureApp.ftp);
  idleReplies = (async () => [await idle.reply(), await idle.reply()])();
});

afterAll(async () => {
  idle.close();
  await Promise.all([app.stop(), secureApp.stop()]);
});

const home = () => app.home('alice');

describe('wrong passwords', () => {
  it('get 530 after a delay that doubles with each failure from the address', async () => {
    for (const delay of [250, 500, 1000]) {
      const started = Date.now();
      const error = await login(app, { password: 'guess' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FTPError);
      expect((error as FTPError).code).toBe(530);
      expect((error as FTPError).message).toContain(`answered after ${delay} ms`);
      // A lower bound only: a busy machine can make it slower, never faster.
      expect(Date.now() - started).toBeGreaterThanOrEqual(delay - 20);
    }
    const raw = await RawFtp.connect(app.ftp);
    await raw.reply();
    await raw.send('USER alice');
    expect(await raw.send('PASS still-wrong')).toMatch(/^530 Login incorrect \(answered after 2000 ms/);
    // The same connection may try again, as RFC 959 allows: USER, then PASS.
    expect(await raw.send('USER alice')).toMatch(/^331/);
    expect(await raw.send('PASS wonderland')).toMatch(/^230/);
    raw.close();
    // A success forgets the failures: the next typo costs the first delay again.
    const error = (await login(app, { password: 'typo' }).catch((e: unknown) => e)) as FTPError;
    expect(error.message).toContain('answered after 250 ms');
  });
});

describe('an over-long command line', () => {
  it('gets 500 once, is dropped up to its end, and the session goes on', async () => {
    const raw = await RawFtp.connect(app.ftp);
    await raw.reply();
    // 10 KB with no line end yet, then the end: one line over the 4,096-byte limit, never buffered whole.
    raw.socket.write(`USER ${'x'.repeat(10_000)}`);
    expect(await raw.send('')).toMatch(/^500 Line too long/);
    expect(await raw.send('NOOP')).toMatch(/^200/);
    expect(await raw.send('USER alice')).toMatch(/^331/);
    raw.close();
  });
});

describe('before login', () => {
  it('answers FEAT and AUTH, and 530 to the transfer and listing commands until USER and PASS succeed', async () => {
    const raw = await RawFtp.connect(app.ftp);
    await raw.reply(); // 220
    expect(await raw.send('FEAT')).toMatch(/^211-Extensions supported:[\s\S]* AUTH TLS[\s\S]*211 End$/);
    expect(await raw.send('AUTH SSL')).toBe('504 AUTH TLS is the mechanism offered (RFC 4217)');
    for (const line of [
      'EPSV',
      'PASV',
      'PORT 127,0,0,1,200,10',
      'RETR secret.txt',
      'STOR x',
      'LIST',
      'MLST /',
    ]) {
      expect(await raw.send(line)).toBe('530 Log in first: USER, then PASS');
    }
    await raw.send('USER alice');
    expect(await raw.send('PASS wonderland')).toMatch(/^230/);
    expect(await raw.send('MLST /')).toMatch(/^250-Listing \/\r\n type=dir;modify=\d{14}; \/\r\n250 End$/);
    raw.close();
  });
});

describe('the quota (files.quotaBytes)', () => {
  it('refuses an upload that would pass it with 552, and stores nothing of it', async () => {
    const client = await login(app);
    const first = randomBytes(600_000);
    await client.uploadFrom(Readable.from([first]), 'first.bin');
    const refused = await client
      .uploadFrom(Readable.from([randomBytes(600_000)]), 'second.bin')
      .catch((e) => e);
    expect(refused.code).toBe(552);
    expect(refused.message).toMatch(/second\.bin: quota of 1 MB exceeded; nothing stored/);
    expect(existsSync(path.join(home(), 'second.bin'))).toBe(false);
    const appended = await client
      .appendFrom(Readable.from([randomBytes(600_000)]), 'first.bin')
      .catch((e) => e);
    expect(appended.code).toBe(552);
    expect(readFileSync(path.join(home(), 'first.bin'))).toEqual(first);
    // Replacing a file frees its bytes first: 900 kB in place of 600 kB fits.
    await client.uploadFrom(Readable.from([randomBytes(900_000)]), 'first.bin');
    expect(statSync(path.join(home(), 'first.bin')).size).toBe(900_000);
    await client.remove('first.bin');
    expect(leftoverUploads(home())).toEqual([]);
    client.close();
  });
});

describe('an upload cut in the middle', () => {
  /** Starts `STOR name` on a fresh session and sends 300 kB of it. */
  async function startUpload(name: string): Promise<{ raw: RawFtp; data: Socket }> {
    const raw = await RawFtp.connect(app.ftp);
    await raw.login();
    const data = await raw.passive();
    expect(await raw.send(`STOR ${name}`)).toMatch(/^150/);
    await new Promise((resolve) => data.write(randomBytes(300_000), resolve));
    return { raw, data };
  }

  it('by a client that dies (both connections cut): nothing stored, an old file left whole', async () => {
    const client = await login(app);
    const old = randomBytes(1000);
    await client.uploadFrom(Readable.from([old]), 'keep.bin');
    // The server sees the two resets in either order (upload.ts, pendingEventsRead): one round
    // would let a regression pass most of the time.
    for (let round = 0; round < 10; round++) {
      for (const name of ['new.bin', 'keep.bin']) {
        const { raw, data } = await startUpload(name);
        raw.socket.resetAndDestroy();
        data.resetAndDestroy();
      }
      await waitFor(() => leftoverUploads(home()).length === 0, { what: 'the temp files removed' });
      expect(existsSync(path.join(home(), 'new.bin'))).toBe(false);
      expect(readFileSync(path.join(home(), 'keep.bin'))).toEqual(old);
    }
    expect(await client.size('keep.bin')).toBe(1000);
    client.close();
  });

  it('by ABOR: 426, nothing stored', async () => {
    const { raw, data } = await startUpload('aborted.bin');
    await new Promise((resolve) => raw.socket.write('ABOR\r\n', resolve));
    // ABOR is read while the transfer runs: the data ends only once the server has read it (on a
    // busy machine both could otherwise be seen in the same turn, the end of the data first).
    await readByServer(raw.socket);
    data.end();
    expect(await raw.reply()).toBe('426 /aborted.bin: aborted by ABOR; nothing stored');
    expect(await raw.reply()).toMatch(/^22[56]/);
    expect(existsSync(path.join(home(), 'aborted.bin'))).toBe(false);
    expect(leftoverUploads(home())).toEqual([]);
    raw.close();
  });
});

describe('the passive port range (3 ports here)', () => {
  it('gives a clear 425 when every port is held, and goes on once one is free', async () => {
    const sessions = await Promise.all([1, 2, 3, 4].map(() => RawFtp.connect(app.ftp)));
    for (const s of sessions) await s.login();
    const [a, b, c, d] = sessions as [RawFtp, RawFtp, RawFtp, RawFtp];
    for (const s of [a, b, c]) expect(await s.send('EPSV')).toMatch(/^229/);
    expect(await d.send('EPSV')).toMatch(
      new RegExp(`^425 No free data port in ${app.passive.from}-${app.passive.to}: 3 transfers hold one`),
    );
    expect(await d.send('PASV')).toMatch(/^425 No free data port/);
    a.close();
    await waitFor(async () => (await d.send('EPSV')).startsWith('229'), { what: 'a data port given back' });
    expect(await d.send('PWD')).toMatch(/^257/); // the session goes on
    const data = await d.passive();
    const listing = new Promise<string>((resolve) => {
      let text = '';
      data.on('data', (c) => (text += c)).on('end', () => resolve(text));
    });
    expect(await d.send('NLST')).toMatch(/^150/);
    expect(await d.reply()).toMatch(/^226/);
    expect(await listing).toContain('public_html');
    for (const s of [b, c, d]) s.close();
  });
});

describe('connections per address (files.maxConnectionsPerAddress)', () => {
  it('refuses one too many with 421, and lets the next one in once one closed', async () => {
    const open = await Promise.all([1, 2, 3, 4, 5, 6].map(() => RawFtp.connect(app.ftp)));
    for (const s of open) expect(await s.reply()).toMatch(/^220/);
    const extra = await RawFtp.connect(app.ftp);
    expect(await extra.reply()).toBe(
      `421 Too many connections from 127.0.0.1 (at most ${MAX_CONNECTIONS}): close one, then retry.`,
    );
    await extra.closed;
    open[0]!.close();
    await waitFor(
      async () => {
        const next = await RawFtp.connect(app.ftp);
        const greeting = await next.reply();
        next.close();
        return greeting.startsWith('220');
      },
      { what: 'a connection let in' },
    );
    for (const s of open) s.close();
  });
});

describe('the idle timeout (files.idleTimeoutSeconds: 10)', () => {
  it('closes a session that sent no command with 421', async () => {
    const [greeting, last] = await idleReplies;
    expect(greeting).toMatch(/^220/);
    expect(last).toBe('421 No command for 10 s: closing the control connection');
    await idle.closed;
  });
});

describe('files.requireTls', () => {
  it('refuses USER and PASS before AUTH TLS, and logs in over TLS', async () => {
    const raw = await RawFtp.connect(secureApp.ftp);
    await raw.reply();
    expect(await raw.send('USER alice')).toBe(
      '530 This server requires TLS before login: send AUTH TLS first (files.requireTls)',
    );
    expect(await raw.send('PASS wonderland')).toMatch(/^530/);
    raw.close();
    const plain = await run('curl', ['-sS', `ftp://alice:wonderland@127.0.0.1:${secureApp.ftp}/`]);
    expect(plain.code).not.toBe(0);
    const tls = await run('curl', [
      '-sS',
      '--ssl-reqd',
      '-k',
      `ftp://alice:wonderland@127.0.0.1:${secureApp.ftp}/`,
    ]);
    expect(tls.stdout).toContain('public_html');
    const client = await login(secureApp, { secure: true });
    expect(await client.pwd()).toBe('/');
    client.close();
  });
});
