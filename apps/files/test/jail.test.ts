import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilesApp, leftoverUploads, login, startFiles } from './helpers.js';

let app: FilesApp;
let alice: Client;
/** A folder outside every jail, standing for the rest of the server's disk. */
let outside: string;
/** Every reply seen: none may name a server path. */
const replies: string[] = [];

async function send(command: string): Promise<{ code: number; message: string }> {
  const reply = await alice.sendIgnoringError(command);
  replies.push(reply.message);
  return reply;
}

beforeAll(async () => {
  app = await startFiles({ files: { anonymous: true } });
  outside = mkdtempSync(path.join(tmpdir(), 'portlab-outside-'));
  writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
  const home = app.home('alice');
  writeFileSync(path.join(app.home('bob'), 'bob-only.txt'), 'bob private');
  symlinkSync(outside, path.join(home, 'evil-dir')); // a folder link pointing out
  symlinkSync(path.join(outside, 'secret.txt'), path.join(home, 'evil-file')); // a file link pointing out
  symlinkSync(path.join(outside, 'planted.txt'), path.join(home, 'dangling')); // pointing out, to nothing yet
  symlinkSync(app.home('bob'), path.join(home, 'to-bob')); // another user's folder
  alice = await login(app);
});

afterAll(async () => {
  alice.close();
  rmSync(outside, { recursive: true, force: true });
  await app.stop();
});

describe('path traversal over FTP: every path stays in the user folder', () => {
  it('CWD ../.. stops at the top of the jail, as a chroot does', async () => {
    expect((await send('CWD ../..')).code).toBe(250);
    expect(await alice.pwd()).toBe('/');
    expect((await alice.list()).map((f) => f.name).sort()).toEqual(['public_html']);
  });

  it('RETR ../../etc/passwd finds nothing: it means /etc/passwd inside the jail', async () => {
    const reply = await send('RETR ../../etc/passwd');
    expect(reply.code).toBe(550);
    expect(reply.message).toBe('550 /etc/passwd: no such file or folder');
  });

  it('absolute paths are the jail`s own', async () => {
    expect((await send('SIZE /etc/passwd')).code).toBe(550);
    expect((await send('CWD /etc')).message).toBe('550 /etc: no such file or folder');
    // The server's real path of a file, asked for by name, is just a path inside the jail.
    const named = await alice.sendIgnoringError(`SIZE ${outside}/secret.txt`);
    expect(named.message).toBe(`550 ${outside}/secret.txt: no such file or folder`);
  });

  it('%2e%2e is a name, not a parent, in FTP', async () => {
    expect((await send('RETR %2e%2e/%2e%2e/etc/passwd')).message).toBe(
      '550 /%2e%2e/%2e%2e/etc/passwd: no such file or folder',
    );
  });

  it('backslashes count as slashes and stop at the top too', async () => {
    expect((await send('SIZE ..\\..\\..\\etc\\passwd')).message).toBe(
      '550 /etc/passwd: no such file or folder',
    );
    expect((await send('CWD ..\\..')).code).toBe(250);
    expect(await alice.pwd()).toBe('/');
  });

  it('a link inside the jail that points out is refused, to read, to enter, to list and to write through', async () => {
    expect((await send('RETR evil-file')).message).toBe('550 /evil-file: leads outside your folder');
    expect((await send('SIZE evil-file')).code).toBe(550);
    expect((await send('CWD evil-dir')).message).toBe('550 /evil-dir: leads outside your folder');
    expect((await send('MLST evil-dir/secret.txt')).code).toBe(550);
    await expect(alice.list('evil-dir')).rejects.toThrow(/550 \/evil-dir: leads outside your folder/);
    // Not even shown in the listing: its size and date would tell about a file outside.
    expect((await alice.list()).map((f) => f.name)).not.toContain('evil-file');
    await expect(alice.uploadFrom(Readable.from(['x']), 'evil-dir/new.txt')).rejects.toThrow(/550/);
    await expect(alice.appendFrom(Readable.from(['x']), 'evil-file')).rejects.toThrow(/550/);
    expect((await send('MKD evil-dir/sub')).code).toBe(550);
    expect((await send('RNFR public_html')).code).toBe(350);
    expect((await send('RNTO evil-dir/moved')).code).toBe(550);
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('TOP SECRET');
    expect(existsSync(path.join(outside, 'new.txt'))).toBe(false);
  });

  it('STOR onto a link replaces the link, never writes where it points', async () => {
    await alice.uploadFrom(Readable.from(['mine']), 'dangling');
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    expect(readFileSync(path.join(app.home('alice'), 'dangling'), 'utf8')).toBe('mine');
  });

  it("another user's folder is out of reach, by name and by link", async () => {
    expect((await send('SIZE ../bob/bob-only.txt')).code).toBe(550);
    expect((await send('CWD /../bob')).message).toBe('550 /bob: no such file or folder');
    expect((await send('RETR to-bob/bob-only.txt')).message).toBe(
      '550 /to-bob/bob-only.txt: leads outside your folder',
    );
  });

  it('no reply names a server path the client did not send', () => {
    expect(replies.length).toBeGreaterThan(10);
    for (const reply of replies) {
      expect(reply).not.toContain(app.lab.dir);
      expect(reply).not.toContain(outside);
      expect(reply).not.toContain('TOP SECRET');
    }
  });
});

describe('files that are not regular files', () => {
  it('a named pipe is refused at once, and the server goes on answering (no open that waits for a writer)', async () => {
    const fifo = path.join(app.home('alice'), 'pipe');
    execFileSync('mkfifo', [fifo]);
    try {
      const reply = await send('RETR pipe');
      expect(reply.message).toBe('550 /pipe: not a regular file');
      expect((await send('NOOP')).code).toBe(200);
    } finally {
      rmSync(fifo);
    }
  });
});

describe('names with control characters', () => {
  it('are refused with 553 (file name not allowed), and nothing is made', async () => {
    expect((await send('MKD bad\x01name')).code).toBe(553);
    expect((await send('STOR tab\there.txt')).code).toBe(553);
    expect((await send('RNTO esc\x1bname')).code).toBe(553);
    expect((await alice.list()).map((f) => f.name).sort()).toEqual(['dangling', 'public_html']);
    expect(leftoverUploads(app.home('alice'))).toEqual([]);
  });
});

describe('anonymous FTP (files.anonymous on)', () => {
  it('reads $DATA/files/public/ and may not write there', async () => {
    mkdirSync(path.join(app.lab.dataDir, 'files', 'public'), { recursive: true });
    writeFileSync(path.join(app.lab.dataDir, 'files', 'public', 'readme.txt'), 'free to share');
    const anon = await login(app, { user: 'anonymous', password: 'student@lab.test' });
    expect((await anon.list()).map((f) => f.name)).toEqual(['readme.txt']);
    expect(await anon.size('readme.txt')).toBe(13);
    await expect(anon.uploadFrom(Readable.from(['x']), 'upload.txt')).rejects.toThrow(
      /550 \/upload.txt: permission denied \(anonymous users may only download\)/,
    );
    expect((await anon.sendIgnoringError('DELE readme.txt')).code).toBe(550);
    expect((await anon.sendIgnoringError('MKD new')).code).toBe(550);
    expect((await anon.sendIgnoringError('SIZE ../alice/public_html')).code).toBe(550);
    anon.close();
  });
});
