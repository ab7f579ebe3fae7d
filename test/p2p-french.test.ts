/**
 * `portlab p2p … --lang fr` speaks French all through: the words of @portlab/bittorrent that reach
 * the screen (why a peer left, what a web seed is, why the tracker is out of reach) are said in
 * French by the CLI (packages/cli/src/p2p/texts.ts), as its own sentences are.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { createTracker } from '@portlab/bittorrent';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTracker } from './apps.js';

let lab: TempLab;
const children: ChildProcess[] = [];
let web: Server;
let tracker: ReturnType<typeof createTracker> | undefined;

beforeAll(async () => {
  lab = await tempLab();
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  tracker?.server.close();
  web?.close();
  lab.cleanup();
});

function p2p(...args: string[]) {
  const run = runCli(lab, 'p2p', ...args);
  children.push(run.child);
  return run;
}

/** A plain HTTP server answering byte ranges of one file (RFC 9110 §14), as a web seed must. */
async function rangeServer(file: string): Promise<string> {
  const body = readFileSync(file);
  web = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m) {
      res.writeHead(200, { 'content-length': body.length }).end(body);
      return;
    }
    const [from, to] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
    res
      .writeHead(206, {
        'content-range': `bytes ${from}-${to}/${body.length}`,
        'content-length': to - from + 1,
      })
      .end(body.subarray(from, to + 1));
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(web.address() as AddressInfo).port}/${path.basename(file)}`;
}

describe('portlab p2p --lang fr', () => {
  it('says in French that the tracker is out of reach, and what a web seed is', async () => {
    const data = path.join(lab.dir, 'web-only.bin');
    writeFileSync(data, randomBytes(300_000));
    const url = await rangeServer(data);
    // The torrent announces to the lab's tracker, which is not running: the web seed alone serves it.
    const create = p2p('create', data, '--web-seed', url);
    expect(await create.exit, create.output()).toBe(0);
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'got-web'), '--lang', 'fr');
    expect(await get.exit, get.output()).toBe(0);
    expect(get.output()).toContain(
      `tracker: impossible de joindre le tracker http://127.0.0.1:${lab.ports.tracker}/announce`,
    );
    expect(get.output()).toContain('source web (HTTP, BEP 19)');
    expect(get.output()).not.toMatch(/cannot reach|web seed \(HTTP/);
  });

  it('says in French why a peer left', async () => {
    tracker = await startTracker(lab);
    const data = path.join(lab.dir, 'shared.bin');
    writeFileSync(data, randomBytes(300_000));
    const seed = p2p('seed', data, '--lang', 'fr');
    await waitFor(() => seed.output().includes('les autres le téléchargent'), { what: 'the seed to start' });
    const get = p2p('get', `${data}.torrent`, '--out', path.join(lab.dir, 'got-peer'), '--lang', 'fr');
    expect(await get.exit, get.output()).toBe(0);
    // Done, the downloader closes the connection to the seed: neither wants anything of the other.
    expect(get.output()).toMatch(/pair 127\.0\.0\.1:\d+ parti \(les deux ont tous les morceaux\)/);
    expect(get.output()).not.toContain('both sides have every piece');
  });

  it('says in French why a download stalled, and what to check', async () => {
    tracker ??= await startTracker(lab);
    const data = path.join(lab.dir, 'lonely.bin');
    writeFileSync(data, randomBytes(100_000));
    expect(await p2p('create', data).exit).toBe(0); // announced to the tracker; nobody seeds it
    const get = p2p(
      'get',
      `${data}.torrent`,
      '--out',
      path.join(lab.dir, 'lonely'),
      '--stall-timeout',
      '2',
      '--lang',
      'fr',
    );
    expect(await get.exit, get.output()).toBe(1);
    expect(get.output()).toContain(
      `aucun morceau reçu en 2 s : le tracker http://127.0.0.1:${lab.ports.tracker}/announce ne connaît aucun autre pair`,
    );
    expect(get.output()).toMatch(/À vérifier :[\s\S]*pare-feu/);
    expect(get.output()).not.toMatch(/no piece arrived|Check:/);
  });
});
