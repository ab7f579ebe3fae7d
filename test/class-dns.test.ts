/**
 * The class DNS across labs (#18): the teacher's lab serves the zone lab.test (apps/dns) and takes
 * registrations on its web app; `portlab dns add|list|remove` edits the zone, `portlab probe` finds
 * the DNS port by asking it a query over UDP, and a student's `portlab up --class-dns … --name pc08
 * --user e08` registers that lab at its own address (127.0.0.8 here: another PC of the class).
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { promises as dnsPromises } from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, UserStore } from '@portlab/config';
import {
  type ClassroomNetwork,
  createClassroomNetwork,
  type NetHost,
  namespaceSupport,
  type TempLab,
  tempLab,
  waitFor,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, runCli, startApp, startLab } from './apps.js';

let teacher: TempLab;
let student: TempLab;
const apps: RunningApp[] = [];

beforeAll(async () => {
  teacher = await tempLab();
  const users = new UserStore(`${teacher.dataDir}/users.json`);
  await users.ensure();
  await users.setMany([{ name: 'e08', password: 'lome-tiva-12', role: 'student' }]);
  apps.push(await startApp(teacher, 'web'), await startApp(teacher, 'dns'));
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  teacher?.cleanup();
  student?.cleanup();
});

function resolver(): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: 3000, tries: 2 });
  r.setServers([`127.0.0.1:${teacher.ports.dns}`]);
  return r;
}

async function cli(lab: TempLab, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const run = runCli(lab, ...args);
  const code = await run.exit;
  return { code, out: run.output() };
}

describe('the class DNS of the teacher', () => {
  it('lists, answers and removes a lab the teacher adds (portlab dns add|list|remove)', async () => {
    // (The apps run here without `portlab up`: each command first says no supervisor answers.)
    const added = await cli(teacher, 'dns', 'add', 'pc07', '192.168.1.57');
    expect(added.code).toBe(0);
    expect(added.out).toContain('pc07.lab.test -> 192.168.1.57 (A, and MX 10 pc07.lab.test.)\n');
    expect((await cli(teacher, 'dns', 'list')).out).toMatch(
      /pc07\.lab\.test\s+192\.168\.1\.57\s+\(the teacher\)/,
    );
    expect(await resolver().resolve4('pc07.lab.test')).toEqual(['192.168.1.57']);
    const bad = await cli(teacher, 'dns', 'add', 'pc07', '999.1.1.1');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/'999\.1\.1\.1' is not an IPv4 address/);
    expect((await cli(teacher, 'dns', 'remove', 'pc07')).out).toMatch(/^removed pc07$/m);
    await expect(resolver().resolve4('pc07.lab.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('is found by portlab probe, which asks it a DNS query over UDP', async () => {
    const probe = await cli(teacher, 'probe', '127.0.0.1', '--ports', String(teacher.ports.dns));
    expect(probe.out).toMatch(
      new RegExp(
        `${teacher.ports.dns}\\s+open\\s+DNS\\s+NOERROR for lab.test SOA \\(authoritative\\), 1 answer`,
      ),
    );
  });
});

describe('a student lab started with --class-dns', () => {
  it('registers its name at its own address, and its MX is answered to the class', async () => {
    // Another PC of the class: the lab binds 127.0.0.8, and registers from there.
    student = await tempLab({ host: '127.0.0.8', dns: { classWebPort: teacher.ports.http } });
    student.env.PORTLAB_PASSWORD = 'lome-tiva-12';
    const up = await startLab(
      student,
      '--class-dns',
      `127.0.0.1:${teacher.ports.dns}`,
      '--name',
      'pc08',
      '--user',
      'e08',
    );
    try {
      await waitFor(() => /class DNS: /.test(up.output()), {
        what: `the registration line in:\n${up.output()}`,
      });
      expect(up.output()).toContain(
        `class DNS: registered pc08.lab.test -> 127.0.0.8 with 127.0.0.1:${teacher.ports.http}; dig @127.0.0.1 -p ${teacher.ports.dns} MX pc08.lab.test`,
      );
      const mx = await resolver().resolveMx('pc08.lab.test');
      expect(mx.map(({ exchange, priority }) => ({ exchange, priority }))).toEqual([
        { exchange: 'pc08.lab.test', priority: 10 },
      ]);
      expect(await resolver().resolve4('pc08.lab.test')).toEqual(['127.0.0.8']);
    } finally {
      await up.stop();
    }
  });
});

const support = namespaceSupport();
const hasDig = spawnSync('dig', ['-v']).status === 0;
const lanSkip = !support.ok ? support.reason : !hasDig ? 'dig is missing (bind9-dnsutils)' : null;
if (lanSkip) console.warn(`class-dns.test.ts, the LAN part skipped: ${lanSkip}`);

describe.skipIf(lanSkip !== null)(
  'the class DNS on a LAN of network namespaces (packages/testkit netns)',
  () => {
    let network: ClassroomNetwork;
    let lan: TempLab;
    const children: ChildProcess[] = [];

    /** Runs a command on a PC of the classroom; resolves with its standard output. */
    function on(host: NetHost, command: string, args: string[]): Promise<string> {
      return new Promise((resolve) => {
        const child = network.spawn(host, command, args);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.once('exit', () => resolve(out));
      });
    }

    beforeAll(async () => {
      network = createClassroomNetwork({ students: 2, shaping: null });
      lan = await tempLab({ host: network.teacher.address });
      const users = new UserStore(`${lan.dataDir}/users.json`);
      await users.ensure();
      await users.setMany([
        { name: 'e01', password: 'kafu-rime-47', role: 'student' },
        { name: 'e02', password: 'lome-tiva-12', role: 'student' },
      ]);
      for (const app of ['web', 'dns']) {
        const main = path.join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
        children.push(
          network.spawn(network.teacher, process.execPath, [main], { env: lan.env, stdio: 'ignore' }),
        );
      }
      const listening = (app: string, service: string) => {
        const file = path.join(lan.dataDir, 'run', `${app}.json`);
        return (
          existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).services[service]?.state === 'listening'
        );
      };
      await waitFor(() => listening('web', 'http') && listening('dns', 'dns'), {
        what: 'web and dns on the LAN',
      });
    }, 60_000);

    afterAll(async () => {
      await Promise.all(
        children.map((c) => {
          const exited = new Promise((resolve) => c.once('exit', resolve));
          c.kill('SIGTERM');
          return exited;
        }),
      );
      network?.destroy();
      lan?.cleanup();
    });

    const register = (student: NetHost, user: string, password: string, name: string) =>
      on(student, 'curl', [
        '-s',
        '-w',
        '\n%{http_code}',
        '-H',
        'content-type: application/json',
        '-d',
        JSON.stringify({ user, password, name }),
        `http://${network.teacher.address}:${lan.ports.http}/api/dns/register`,
      ]);

    it("registers a student PC at its LAN address, answered to another PC by dig; a classmate's name is refused", async () => {
      const [pc1, pc2] = network.students as [NetHost, NetHost];
      expect(await register(pc1, 'e01', 'kafu-rime-47', 'pc01')).toBe(
        `{"name":"pc01","fqdn":"pc01.lab.test","address":"${pc1.address}"}\n200`,
      );
      expect(await register(pc2, 'e02', 'lome-tiva-12', 'pc01')).toMatch(/another lab's name.*\n403$/);
      expect(await register(pc2, 'e02', 'wrong', 'pc02')).toMatch(/\n401$/);
      const dig = (...args: string[]) =>
        on(pc2, 'dig', [`@${network.teacher.address}`, '-p', String(lan.ports.dns), '+short', ...args]);
      expect(await dig('A', 'pc01.lab.test')).toBe(`${pc1.address}\n`);
      expect(await dig('+tcp', 'MX', 'pc01.lab.test')).toBe('10 pc01.lab.test.\n');
      expect(await dig('A', 'ns.lab.test')).toBe(`${network.teacher.address}\n`);
    });
  },
);
