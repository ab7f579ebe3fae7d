import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { loadConfig, UserStore } from '@portlab/config';
import {
  canConnect,
  type RawConnection,
  rawConnection,
  type TempLab,
  tempLab,
  waitFor,
} from '@portlab/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppRuntime, LoginThrottle, readRunState, serviceStatuses, throttleOf } from '../src/index.js';

let lab: TempLab;
let runtime: AppRuntime;
const blockers: Server[] = [];

beforeEach(async () => {
  lab = await tempLab();
  runtime = new AppRuntime('web', loadConfig({ file: lab.configFile, env: {} }));
});

afterEach(async () => {
  await runtime.shutdown();
  for (const b of blockers.splice(0)) b.close();
  lab.cleanup();
});

const echoServer = () =>
  createServer((socket) => {
    const session = runtime.sessionOf(socket);
    socket.on('data', (d) => {
      session?.client(d.toString().trim());
      socket.write(d);
    });
  });

describe('an app runtime', () => {
  it('closes a connection past maxConnectionsPerAddress from one address, says so, and takes the address again once one closes', async () => {
    const config = loadConfig({ file: lab.configFile, env: {} });
    // Loopback stands for a student's PC here: the lab machine's own addresses are not counted otherwise.
    const strict = new AppRuntime('web', { ...config, maxConnectionsPerAddress: 3 }, { limited: () => true });
    try {
      expect(await strict.serve('http', echoServer())).toBe(true);
      const held: RawConnection[] = [];
      for (let i = 0; i < 3; i++) held.push(await rawConnection(lab.ports.http));
      const extra = await rawConnection(lab.ports.http);
      await waitFor(() => extra.closed(), { what: 'the fourth connection to be closed' });
      expect(held.some((c) => c.closed())).toBe(false);
      strict.transcript('http').flush();
      const log = readFileSync(path.join(lab.dataDir, 'log', 'http.ndjson'), 'utf8');
      expect(log).toContain(
        'too many connections from 127.0.0.1 (3); closing (config maxConnectionsPerAddress)',
      );
      held[0]!.socket.destroy();
      await waitFor(() => held[0]!.closed(), { what: 'the first to close' });
      // The server saw it close too: a new connection is taken.
      await waitFor(
        async () => {
          const again = await rawConnection(lab.ports.http);
          await new Promise((r) => setTimeout(r, 100));
          const kept = !again.closed();
          again.socket.destroy();
          return kept;
        },
        { what: 'a new connection to be kept' },
      );
      for (const c of held) c.socket.destroy();
    } finally {
      await strict.shutdown();
    }
  });

  it("does not count the lab machine's own connections (by default)", async () => {
    const config = loadConfig({ file: lab.configFile, env: {} });
    const local = new AppRuntime('web', { ...config, maxConnectionsPerAddress: 1 });
    try {
      expect(await local.serve('http', echoServer())).toBe(true);
      const both = [await rawConnection(lab.ports.http), await rawConnection(lab.ports.http)];
      await new Promise((r) => setTimeout(r, 200));
      expect(both.filter((c) => c.closed())).toEqual([]);
      for (const c of both) c.socket.destroy();
    } finally {
      await local.shutdown();
    }
  });

  it('listens, opens a transcript session per connection, and keeps the run state current', async () => {
    expect(await runtime.serve('http', echoServer())).toBe(true);
    const client = connect(lab.ports.http, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    client.write('hello\n');
    await new Promise((r) => client.once('data', r));
    const state = await waitFor(() => {
      const s = readRunState(lab.dataDir + '/run', 'web');
      return s?.services.http?.clients === 1 && s;
    });
    expect(state.pid).toBe(process.pid);
    expect(serviceStatuses(runtime.config).find((s) => s.name === 'http')).toMatchObject({
      listening: true,
      clients: 1,
    });
    client.destroy();
    await waitFor(() => readRunState(lab.dataDir + '/run', 'web')?.services.http?.clients === 0);
    runtime.transcript('http').flush();
    const log = readFileSync(path.join(lab.dataDir, 'log', 'http.ndjson'), 'utf8');
    expect(log).toMatch(/"type":"service".*"state":"listening"/);
    expect(log).toMatch(/"dir":"C","line":"hello"/);
    expect(log).toMatch(/"type":"close"/);
  });

  it('binds a loopback-only service to 127.0.0.1 when the lab listens on every interface', async () => {
    const open = await tempLab({ host: '0.0.0.0' });
    const wide = new AppRuntime('chain', loadConfig({ file: open.configFile, env: {} }));
    try {
      const api = echoServer();
      const p2p = echoServer();
      expect(await wide.serve('chain-api', api, '127.0.0.1')).toBe(true);
      expect(await wide.serve('chain', p2p)).toBe(true);
      expect(api.address()).toMatchObject({ address: '127.0.0.1', port: open.ports['chain-api'] });
      expect(p2p.address()).toMatchObject({ address: '0.0.0.0', port: open.ports.chain });
    } finally {
      await wide.shutdown();
      open.cleanup();
    }
  });

  it('reports a port in use clearly, naming the service and port, and goes on with the others', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((r) => blocker.listen(lab.ports.http, '127.0.0.1', r));
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      expect(await runtime.serve('http', echoServer())).toBe(false);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toContain(
      `http cannot listen on 127.0.0.1:${lab.ports.http}: port ${lab.ports.http} is already in use`,
    );
    expect(await runtime.serve('https', echoServer())).toBe(true);
    const statuses = serviceStatuses(runtime.config);
    expect(statuses.find((s) => s.name === 'http')).toMatchObject({
      listening: false,
      error: expect.stringMatching(/already in use/),
    });
    expect(statuses.find((s) => s.name === 'https')).toMatchObject({ listening: true });
  });

  it('stops one service (cutting its connections) and starts it again', async () => {
    await runtime.serve('http', echoServer());
    const client = connect(lab.ports.http, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const closed = new Promise((r) => client.once('close', r));
    await runtime.stopService('http');
    await closed;
    expect(await canConnect(lab.ports.http)).toBe(false);
    expect(serviceStatuses(runtime.config).find((s) => s.name === 'http')?.listening).toBe(false);
    expect(await runtime.startService('http')).toBe(true);
    expect(await canConnect(lab.ports.http)).toBe(true);
  });
});

describe('the login throttle', () => {
  it('checks a login against the accounts: a wrong password waits, a right one clears the failures', async () => {
    const users = new UserStore(path.join(lab.dataDir, 'users.json'));
    await users.ensure();
    const throttle = new LoginThrottle({ baseDelayMs: 1, maxDelayMs: 8 });
    const login = (password: string) =>
      throttle.authenticate(users, {
        name: 'alice@lab.test',
        password,
        domain: 'lab.test',
        address: '10.0.0.9',
      });
    expect(await login('wrong')).toEqual({ user: null, waitedMs: 1 });
    expect(await login('wrong')).toEqual({ user: null, waitedMs: 2 });
    expect(throttle.failuresOf(throttle.keyOf('10.0.0.9', 'alice'))).toBe(2);
    expect(await login('wonderland')).toEqual({ user: 'alice' });
    expect(throttle.failuresOf(throttle.keyOf('10.0.0.9', 'alice'))).toBe(0);
  });

  it("counts failures per address and account: one student's typos do not slow another's login from the same NAT address", async () => {
    const users = new UserStore(path.join(lab.dataDir, 'users.json'));
    await users.ensure();
    // A long delay: a login that had to wait it would show it in waitedMs.
    const throttle = new LoginThrottle({ baseDelayMs: 1, maxDelayMs: 400 });
    const login = (name: string, password: string) =>
      throttle.authenticate(users, { name, password, domain: 'lab.test', address: '10.0.0.1' });
    for (let i = 0; i < 4; i++) await login('alice', 'wrong'); // alice's typos: 1, 2, 4, 8 ms
    expect(throttle.delayFor(throttle.keyOf('10.0.0.1', 'alice'))).toBe(16);
    // bob, same address, wrong once: waits the base delay, not alice's 16 ms.
    expect(await login('bob', 'typo')).toEqual({ user: null, waitedMs: 1 });
    expect(await login('bob', 'builder')).toEqual({ user: 'bob' });
    // Another address trying alice's password starts from the base delay too.
    expect(throttle.delayFor(throttle.keyOf('10.0.0.2', 'alice'))).toBe(1);
  });

  it("with per: 'address', counts every failure of an address together (config login.throttleBy)", async () => {
    const users = new UserStore(path.join(lab.dataDir, 'users.json'));
    await users.ensure();
    const throttle = throttleOf({ login: { failureDelayMs: 1, maxDelayMs: 400, throttleBy: 'address' } });
    const login = (name: string, password: string) =>
      throttle.authenticate(users, { name, password, domain: 'lab.test', address: '10.0.0.1' });
    for (let i = 0; i < 4; i++) await login('alice', 'wrong');
    expect(await login('bob', 'typo')).toEqual({ user: null, waitedMs: 16 });
  });

  it('doubles the delay with each failure from one address, up to a maximum, and forgets on success', async () => {
    const throttle = new LoginThrottle({ baseDelayMs: 1, maxDelayMs: 8 });
    expect(throttle.delayFor('10.0.0.1')).toBe(1);
    const delays = [];
    for (let i = 0; i < 6; i++) delays.push(await throttle.failed('10.0.0.1'));
    expect(delays).toEqual([1, 2, 4, 8, 8, 8]);
    expect(throttle.delayFor('10.0.0.2')).toBe(1);
    throttle.succeeded('10.0.0.1');
    expect(throttle.failuresOf('10.0.0.1')).toBe(0);
  });
});

describe('an app runtime serving UDP (serveUdp, the class DNS)', () => {
  /** A UDP echo: each datagram back to its sender, as a DNS server answers a query. */
  const udpEcho = () => {
    const socket = createSocket('udp4');
    socket.on('message', (m, from) => socket.send(m, from.port, from.address));
    return socket;
  };
  const ask = (port: number, text: string) =>
    new Promise<string>((resolve) => {
      const client = createSocket('udp4');
      client.once('message', (m) => {
        client.close();
        resolve(m.toString());
      });
      client.send(text, port, '127.0.0.1');
    });

  it('binds UDP and TCP on one port number, stops both, and binds a new UDP socket on start', async () => {
    const dns = lab.ports.dns;
    expect(await runtime.serveUdp('dns', udpEcho, echoServer())).toBe(true);
    expect(await ask(dns, 'one')).toBe('one');
    expect(await canConnect(dns)).toBe(true);
    await runtime.stopService('dns');
    expect(await canConnect(dns)).toBe(false);
    // The port is free again on UDP: another socket can bind it, and let it go.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(dns, '127.0.0.1', resolve));
    probe.close();
    expect(await runtime.startService('dns')).toBe(true);
    expect(await ask(dns, 'two')).toBe('two');
    expect(readRunState(`${lab.dataDir}/run`, 'web')?.services.dns?.state).toBe('listening');
    expect(serviceStatuses(runtime.config).find((s) => s.name === 'dns')?.transport).toBe('udp+tcp');
  });

  it('reports a UDP port in use as clearly as a TCP one, and one taken over TCP frees the UDP side', async () => {
    const dns = lab.ports.dns;
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(dns, '127.0.0.1', resolve));
    try {
      expect(await runtime.serveUdp('dns', udpEcho, echoServer())).toBe(false);
      expect(readRunState(`${lab.dataDir}/run`, 'web')?.services.dns?.error).toBe(
        `dns cannot listen on 127.0.0.1:${dns} over UDP: UDP port ${dns} is already in use by another program (another portlab?). Stop it, or give dns another port in portlab.config.json, e.g. {"ports": {"dns": ${dns + 10000 > 65535 ? dns - 1000 : dns + 10000}}}.`,
      );
    } finally {
      holder.close();
    }
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(dns, '127.0.0.1', resolve));
    expect(await runtime.startService('dns')).toBe(false);
    expect(readRunState(`${lab.dataDir}/run`, 'web')?.services.dns?.error).toMatch(
      new RegExp(`over TCP: TCP port ${dns} is already in use`),
    );
    // The UDP socket bound before TCP failed was let go: the port is free on UDP.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(dns, '127.0.0.1', resolve);
    });
    probe.close();
  });
});
