/**
 * Lab 05 step 10, a swarm across the class (issue 18), on the namespace classroom, with the
 * commands the sheet and the teacher notes give, typed on each PC:
 *  - the teacher's lab (web and peer apps on the teacher's address): `portlab p2p create class.bin`,
 *    the .torrent put on ~teacher, `portlab p2p seed class.bin.torrent`;
 *  - pc01: `curl -O http://TEACHER:8080/~teacher/class.bin.torrent`, then
 *    `PORTLAB_HOST=<pc01> portlab p2p get class.bin.torrent --user e01`, then `p2p seed` in turn;
 *  - the teacher stops seeding; pc02 does the same as pc01 and gets every piece from pc01, at pc01's
 *    own address, as the teacher's tracker handed it out.
 * Needs root and iproute2; skipped elsewhere, saying why.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, UserStore } from '@portlab/config';
import {
  type ClassroomNetwork,
  createClassroomNetwork,
  type NetHost,
  namespaceSupport,
  PORTLAB_BIN,
  type TempLab,
  tempLab,
  waitFor,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const support = namespaceSupport();
const hasCurl = spawnSync('curl', ['--version']).status === 0;
const skip = !support.ok ? support.reason : !hasCurl ? 'curl is missing' : null;
if (skip) console.warn(`classroom-swarm.test.ts skipped: ${skip}`);

/** A command running on a PC of the classroom, its output kept. */
interface Run {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

describe.skipIf(skip !== null)(
  'lab 05 step 10: one swarm for the whole class, around the teacher’s tracker',
  () => {
    let net: ClassroomNetwork;
    let teacher: TempLab;
    let dir: string;
    const running: ChildProcess[] = [];

    function run(pc: NetHost, cwd: string, env: NodeJS.ProcessEnv, command: string, args: string[]): Run {
      const child = net.spawn(pc, command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      running.push(child);
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      return { child, output: () => output, exit: new Promise((resolve) => child.once('exit', resolve)) };
    }

    /** A student's PC: a folder and a config of their own; PORTLAB_HOST their address, as the sheet says. */
    function studentEnv(i: number): { cwd: string; env: NodeJS.ProcessEnv } {
      const cwd = path.join(dir, `pc0${i + 1}`);
      mkdirSync(cwd, { recursive: true });
      writeFileSync(
        path.join(cwd, 'portlab.config.json'),
        JSON.stringify({ dataDir: path.join(cwd, 'var') }),
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORTLAB_CONFIG: path.join(cwd, 'portlab.config.json'),
        PORTLAB_HOST: net.students[i]!.address,
        NO_COLOR: '1',
      };
      for (const name of ['PORTLAB_DATA_DIR', 'PORTLAB_PUBLIC_ADDRESS', 'PORTLAB_PORT_OFFSET'])
        delete env[name];
      return { cwd, env };
    }

    /** Step 10.1 and 10.2 on a student's PC: the .torrent from the teacher's page, then `p2p get`. */
    async function fetchAndGet(i: number): Promise<{ cwd: string; env: NodeJS.ProcessEnv; out: string }> {
      const { cwd, env } = studentEnv(i);
      const pc = net.students[i]!;
      const curl = run(pc, cwd, env, 'curl', [
        '-sfO',
        `http://${net.teacher.address}:8080/~teacher/class.bin.torrent`,
      ]);
      expect(await curl.exit, curl.output()).toBe(0);
      const get = run(pc, cwd, env, process.execPath, [
        PORTLAB_BIN,
        'p2p',
        'get',
        'class.bin.torrent',
        '--user',
        `e0${i + 1}`,
      ]);
      expect(await get.exit, get.output()).toBe(0);
      return { cwd, env, out: get.output() };
    }

    beforeAll(async () => {
      net = createClassroomNetwork({ students: 2, shaping: null });
      dir = mkdtempSync(path.join(tmpdir(), 'portlab-class-swarm-'));
      // The teacher's lab on the room's address, on the ports of the plan (the sheet's 6969 and 8080).
      teacher = await tempLab({
        host: net.teacher.address,
        ports: { tracker: 6969, http: 8080, peer: 6881 },
      });
      const users = new UserStore(`${teacher.dataDir}/users.json`);
      await users.ensure();
      await users.setMany([
        { name: 'teacher', password: 'tableau-noir-31', role: 'teacher' },
        { name: 'e01', password: 'kafu-rime-47', role: 'student' },
        { name: 'e02', password: 'lome-tiva-12', role: 'student' },
      ]);
      for (const app of ['web', 'peer']) {
        const main = path.join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
        running.push(net.spawn(net.teacher, process.execPath, [main], { env: teacher.env, stdio: 'ignore' }));
      }
      const listening = (app: string, service: string) => {
        try {
          const file = path.join(teacher.dataDir, 'run', `${app}.json`);
          return JSON.parse(readFileSync(file, 'utf8')).services[service]?.state === 'listening';
        } catch {
          return false;
        }
      };
      await waitFor(() => listening('web', 'http') && listening('peer', 'tracker'), {
        what: "the teacher's web app and tracker",
      });
    }, 60_000);

    afterAll(async () => {
      await Promise.all(
        running
          .filter((c) => c.exitCode === null && c.signalCode === null)
          .map((c) => {
            const exited = new Promise((resolve) => c.once('exit', resolve));
            c.kill('SIGTERM');
            return exited;
          }),
      );
      net?.destroy();
      teacher?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('pc01 downloads from the teacher, then serves pc02 from its own address', async () => {
      const [pc1, pc2] = net.students as [NetHost, NetHost];
      const content = randomBytes(1_000_000);
      writeFileSync(path.join(teacher.dir, 'class.bin'), content);
      const create = run(net.teacher, teacher.dir, teacher.env, process.execPath, [
        PORTLAB_BIN,
        'p2p',
        'create',
        'class.bin',
      ]);
      expect(await create.exit, create.output()).toBe(0);
      const html = path.join(teacher.dataDir, 'files', 'teacher', 'public_html');
      mkdirSync(html, { recursive: true });
      copyFileSync(path.join(teacher.dir, 'class.bin.torrent'), path.join(html, 'class.bin.torrent'));
      // The .torrent names the teacher's tracker at the address students reach it.
      expect(readFileSync(path.join(html, 'class.bin.torrent'), 'latin1')).toContain(
        `http://${net.teacher.address}:6969/announce`,
      );
      const teacherSeed = run(net.teacher, teacher.dir, teacher.env, process.execPath, [
        PORTLAB_BIN,
        'p2p',
        'seed',
        'class.bin.torrent',
      ]);
      await waitFor(() => /^seeding class\.bin/m.test(teacherSeed.output()), {
        what: `the teacher's seed:\n${teacherSeed.output()}`,
      });

      const first = await fetchAndGet(0);
      expect(readFileSync(path.join(first.cwd, 'class.bin')).equals(content)).toBe(true);
      expect(first.out).toContain(`this peer listens on ${pc1.address}:`);
      expect(first.out).toMatch(
        new RegExp(`^\\s*${net.teacher.address.replaceAll('.', '\\.')}:\\d+ .* 100%`, 'm'),
      );

      // pc01 shares it in turn; the teacher stops: the class no longer needs the teacher's PC.
      const seed1 = run(pc1, first.cwd, first.env, process.execPath, [
        PORTLAB_BIN,
        'p2p',
        'seed',
        'class.bin.torrent',
        '--user',
        'e01',
      ]);
      await waitFor(() => /^seeding class\.bin/m.test(seed1.output()), {
        what: `pc01's seed:\n${seed1.output()}`,
      });
      teacherSeed.child.kill('SIGINT');
      await teacherSeed.exit;

      const second = await fetchAndGet(1);
      expect(readFileSync(path.join(second.cwd, 'class.bin')).equals(content)).toBe(true);
      expect(second.out).toContain(`this peer listens on ${pc2.address}:`);
      expect(second.out).toMatch(new RegExp(`^\\s*${pc1.address.replaceAll('.', '\\.')}:\\d+ .* 100%`, 'm'));
      await waitFor(() => seed1.output().includes(`peer ${pc2.address}:`), {
        what: `pc01 to see pc02 connect:\n${seed1.output()}`,
      });
    });
  },
);
