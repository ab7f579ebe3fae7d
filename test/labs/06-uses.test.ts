// Lab 6, the uses of peer-to-peer: the demo (`portlab lab 06`, which starts the lab itself) and the
// check, per account, against the exercise done with the sheet's commands.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { UPDATE_TORRENT_PATH } from '@portlab/labs';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, describe, it } from 'vitest';
import { startTracker } from '../apps.js';
import { addAccounts, portlab } from './helpers.js';

const bin = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const labs: TempLab[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const server of servers) server.close();
  for (const lab of labs) lab.cleanup();
});

// Two labs of their own: the demo and the exercise run side by side.
describe.concurrent('lab 06: the uses of peer-to-peer', () => {
  it('demo: three peers on 127.0.0.2-4, and the watcher names each with a verified piece', async ({
    expect,
  }) => {
    const lab = await tempLab();
    labs.push(lab);
    const demo = await portlab(lab, ['lab', '06', '--lang', 'en']);
    expect(demo.code, demo.out).toBe(0);
    // The update step: downloaded, or (before the web server publishes it) said plainly.
    expect(demo.out).toMatch(
      /the web server publishes no update \(http:\/\/127\.0\.0\.1:\d+\/updates\/portlab-update-1\.0\.torrent: HTTP 404\)|complete: \d+\/\d+ pieces/,
    );
    for (const host of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      expect(demo.out).toMatch(
        new RegExp(`\\$ portlab p2p seed \\S+lab6-4MB\\.bin\\.torrent --host ${host} &`),
      );
      expect(demo.out).toMatch(
        new RegExp(`^ +${host.replaceAll('.', '\\.')} +\\d+ +portlab 0\\.1 +\\d+ +✔ +\\d{4}-`, 'm'),
      );
    }
    expect(demo.out).toMatch(/3 peer\(s\) listed by the tracker, 3 verified piece\(s\)/);
    expect(demo.out).toContain('the subscriber is the one warned');
  });

  it('check: the update downloaded with --user and a watch, counted for that account only', async ({
    expect,
  }) => {
    const lab = await tempLab();
    labs.push(lab);
    await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2' });
    // The tracker, and a stand-in for the web server's update (apps/web publishes it at this path).
    servers.push((await startTracker(lab)).server);
    const check = (user: string) => portlab(lab, ['check', '06', '--user', user, '--lang', 'en']);

    const missing = await check('e07');
    expect(missing.out).toMatch(
      /✘ the lab's server publishes no update \(http:\/\/127\.0\.0\.1:\d+\/updates\/portlab-update-1\.0\.torrent: fetch failed\): tell the teacher/,
    );

    const update = path.join(lab.dir, 'portlab-update-1.0.tar');
    writeFileSync(update, randomBytes(300_000));
    expect((await portlab(lab, ['p2p', 'create', update])).code).toBe(0);
    const torrent = readFileSync(`${update}.torrent`);
    const web = createServer((req, res) => {
      if (req.url === UPDATE_TORRENT_PATH) res.end(torrent);
      else res.writeHead(404).end();
    });
    servers.push(web);
    await new Promise<void>((resolve) => web.listen(lab.ports.http, '127.0.0.1', resolve));

    const before = await check('e07');
    expect(before.out).toContain('✘ none of your peers (--user e07) has completed the update');
    expect(before.out).toContain('✘ you have not watched a swarm yet (p2p watch … --user e07)');

    const seed = spawn(process.execPath, [bin, 'p2p', 'seed', `${update}.torrent`, '--host', '127.0.0.2'], {
      env: lab.env,
    });
    children.push(seed);
    let said = '';
    seed.stdout!.on('data', (d) => {
      said += d;
    });
    await waitFor(() => said.includes('seeding '), { what: `p2p seed to start: ${said}` });
    const got = await portlab(lab, [
      'p2p',
      'get',
      `${update}.torrent`,
      '--out',
      path.join(lab.dir, 'got'),
      '--host',
      '127.0.0.3',
      '--user',
      'e07',
    ]);
    expect(got.code, got.out).toBe(0);
    // A watch for another account (e08) does not count for e07.
    const watch = await portlab(lab, ['p2p', 'watch', `${update}.torrent`, '--for', '1', '--user', 'e08']);
    expect(watch.code, watch.out).toBe(0);
    expect(watch.out).toMatch(/^ *127\.0\.0\.2 +\d+ +portlab 0\.1 +\d+ +✔/m);

    const after = await check('e07');
    expect(after.out).toContain('✔ the update downloaded (web server and peers)');
    expect(after.out).toContain('✘ you have not watched a swarm yet');
    const other = await check('e08');
    expect(other.out).toContain('✔ a swarm watched with p2p watch');
    expect(other.out).toContain('✘ none of your peers (--user e08) has completed the update');
    seed.kill('SIGINT');
  });
});
