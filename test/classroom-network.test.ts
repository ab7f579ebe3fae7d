/**
 * The virtual classroom's network itself (@portlab/testkit netns.ts), which classroom.test.ts and
 * `npm run bench -- class` stand on: PCs reach each other by their addresses and nothing of the
 * host, the links are shaped, and every namespace made is deleted, a dead run's too.
 * Needs root and iproute2; skipped elsewhere, saying why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import {
  type ClassroomNetwork,
  createClassroomNetwork,
  NETNS_PREFIX,
  type NetHost,
  namespaceSupport,
  sweepStaleNamespaces,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const support = namespaceSupport();
if (!support.ok) console.warn(`classroom-network.test.ts skipped: ${support.reason}`);

const namespaces = () =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);

/** Runs a node script on a PC; resolves with what it printed (stdout, trimmed) once it exits. */
function nodeOn(net: ClassroomNetwork, host: NetHost, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = net.spawn(host, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.once('error', reject);
    child.once('exit', () => resolve(out.trim()));
  });
}

/** A TCP connection from a PC to host:port: "connected", or the error's code. */
const tryConnect = (host: string, port: number) => `
  const s = require('node:net').connect(${port}, '${host}', () => { console.log('connected'); s.destroy(); });
  s.on('error', (e) => console.log(e.code));
  s.setTimeout(10000, () => { console.log('timeout'); s.destroy(); });`;

describe.skipIf(!support.ok)('the classroom network (network namespaces, a bridge, tc)', () => {
  let net: ClassroomNetwork;
  let hostServer: Server;

  beforeAll(async () => {
    net = createClassroomNetwork({ students: 2 });
    // A server on the host's own loopback: no PC of the classroom may reach it.
    hostServer = createServer((s) => s.end());
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => {
    net?.destroy();
    hostServer?.close();
  });

  it('makes a switch, the teacher and each student, named after this run', () => {
    expect(net.teacher.address).toBe('10.213.0.1');
    expect(net.students.map((s) => s.address)).toEqual(['10.213.0.11', '10.213.0.12']);
    const mine = namespaces().filter((n) => n.startsWith(`${NETNS_PREFIX}${process.pid}-`));
    expect(mine.sort()).toEqual([net.switchNs, net.teacher.ns, ...net.students.map((s) => s.ns)].sort());
  });

  it('a student PC reaches the teacher by its address, through the switch', async () => {
    const teacher = net.spawn(
      net.teacher,
      process.execPath,
      [
        '-e',
        `require('node:net').createServer((s) => s.end('hello from the teacher\\n')).listen(9000, '10.213.0.1', () => console.log('listening'))`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await new Promise<void>((resolve) => teacher.stdout!.once('data', () => resolve()));
      const reply = await nodeOn(
        net,
        net.students[1]!,
        `require('node:net').connect(9000, '10.213.0.1').on('data', (d) => process.stdout.write(d)).on('error', (e) => console.log(e.code))`,
      );
      expect(reply).toBe('hello from the teacher');
    } finally {
      teacher.kill();
    }
  });

  it("nothing of the host: the host's loopback server is not reachable from a PC, nor a PC from the host", async () => {
    const { port } = hostServer.address() as { port: number };
    expect(await nodeOn(net, net.students[0]!, tryConnect('127.0.0.1', port))).toBe('ECONNREFUSED');
    // The classroom's addresses exist only inside its namespaces, not on the host's interfaces.
    const hostAddresses = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
    expect(hostAddresses).not.toContain('10.213.0.');
  });

  it('shapes both ends of every link with tbf: 1 Gbit/s for the teacher, 100 Mbit/s per student', () => {
    const qdisc = (ns: string) => spawnSync('tc', ['-n', ns, 'qdisc', 'show'], { encoding: 'utf8' }).stdout;
    expect(qdisc(net.teacher.ns)).toMatch(/tbf .*dev eth0 root .*rate 1Gbit/);
    expect(qdisc(net.students[0]!.ns)).toMatch(/tbf .*dev eth0 root .*rate 100Mbit/);
    const sw = qdisc(net.switchNs);
    expect(sw).toMatch(/tbf .*dev teacher root .*rate 1Gbit/);
    expect(sw).toMatch(/tbf .*dev s01 root .*rate 100Mbit/);
    expect(sw).toMatch(/tbf .*dev s02 root .*rate 100Mbit/);
  });

  it('reshapes every link at once (lab 5 on slower links)', () => {
    net.reshape({ teacher: '100mbit', student: '10mbit' });
    const qdisc = (ns: string) => spawnSync('tc', ['-n', ns, 'qdisc', 'show'], { encoding: 'utf8' }).stdout;
    expect(qdisc(net.teacher.ns)).toMatch(/tbf .*dev eth0 root .*rate 100Mbit/);
    expect(qdisc(net.students[1]!.ns)).toMatch(/tbf .*dev eth0 root .*rate 10Mbit/);
    expect(qdisc(net.switchNs)).toMatch(/tbf .*dev s02 root .*rate 10Mbit/);
    expect(net.shaping).toEqual({ teacher: '100mbit', student: '10mbit' });
  });

  it('sweeps what a dead run left, and leaves a live one’s namespaces alone', async () => {
    // A pid that is surely dead: a process that has exited.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const stale = `${NETNS_PREFIX}${gone.pid}-sw`;
    const live = `${NETNS_PREFIX}${process.ppid}-sw`;
    spawnSync('ip', ['netns', 'add', stale]);
    spawnSync('ip', ['netns', 'add', live]);
    try {
      expect(sweepStaleNamespaces()).toContain(stale);
      expect(namespaces()).not.toContain(stale);
      expect(namespaces()).toContain(live);
    } finally {
      spawnSync('ip', ['netns', 'del', stale]);
      spawnSync('ip', ['netns', 'del', live]);
    }
  });

  it('deletes every namespace it made, once', () => {
    const made = [net.switchNs, net.teacher.ns, ...net.students.map((s) => s.ns)];
    net.destroy();
    net.destroy();
    expect(namespaces().filter((n) => made.includes(n))).toEqual([]);
  });

  it('refuses a class of no one, and of more PCs than its /24 holds', () => {
    expect(() => createClassroomNetwork({ students: 0 })).toThrow(/students: expected 1 to 200/);
    expect(() => createClassroomNetwork({ students: 300 })).toThrow(/students: expected 1 to 200/);
  });
});
