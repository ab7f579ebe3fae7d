import { type ChildProcess, execFile, fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ZoneRegistry } from '@portlab/dns';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const DIG = ['/usr/bin/dig', '/bin/dig'].find(existsSync);
const PYTHON = '/usr/bin/python3';

let lab: TempLab;
let app: ChildProcess;
let registry: ZoneRegistry;

/** Starts the dns app of `lab`; resolves with its process once it says its zone is served. */
function startDns(of: TempLab): Promise<{ child: ChildProcess; output: () => string }> {
  const child = fork(main, [], { env: of.env, stdio: 'pipe' });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return waitFor(() => /zone .* on port|cannot listen/.test(output) && { child, output: () => output }, {
    what: 'the dns app to start',
  });
}

function stop(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

beforeAll(async () => {
  lab = await tempLab();
  registry = new ZoneRegistry(path.join(lab.dataDir, 'dns'));
  registry.add('pc07', '192.168.1.57');
  ({ child: app } = await startDns(lab));
});

afterAll(async () => {
  await stop(app);
  lab.cleanup();
});

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run(DIG!, [
    '@127.0.0.1',
    '-p',
    String(lab.ports.dns),
    '+time=5',
    '+tries=1',
    ...args,
  ]);
  return stdout;
}

/** Sends one datagram, resolves with the reply, or null when none comes in `waitMs`. */
function udpExchange(message: Buffer, waitMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, waitMs);
    socket.once('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, lab.ports.dns, '127.0.0.1');
  });
}

/** A query for `name`, type `type`, built by hand (RFC 1035 §4.1), with the given header counts. */
function query(name: string, type: number, { id = 0x1234, qdcount = 1, arcount = 0, flags = 0x0100 } = {}) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(qdcount, 4);
  header.writeUInt16BE(arcount, 10);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

const rcodeOf = (reply: Buffer) => reply.readUInt16BE(2) & 0xf;

describe.skipIf(!DIG)('the class DNS, asked with dig (bind9-dnsutils)', () => {
  it('answers A, MX and SOA over UDP, authoritative, without recursion', async () => {
    const a = await dig('A', 'pc07.lab.test');
    expect(a).toMatch(/status: NOERROR/);
    expect(a).toMatch(/flags: qr aa rd;/); // AA set, RA not: authoritative, not a resolver
    expect(a).toMatch(/^pc07\.lab\.test\.\s+60\s+IN\s+A\s+192\.168\.1\.57$/m);
    expect(a).toMatch(/\(UDP\)/);
    expect(await dig('+short', 'MX', 'pc07.lab.test')).toBe('10 pc07.lab.test.\n');
    expect(await dig('+short', 'SOA', 'lab.test')).toBe(
      'ns.lab.test. teacher.lab.test. 2 3600 600 86400 60\n',
    );
    expect(await dig('+short', 'NS', 'lab.test')).toBe('ns.lab.test.\n');
  });

  it('answers the same over TCP (+tcp: 2-byte length prefix, RFC 1035 §4.2.2)', async () => {
    const mx = await dig('+tcp', 'MX', 'pc07.lab.test');
    expect(mx).toMatch(/\(TCP\)/);
    expect(mx).toMatch(/^pc07\.lab\.test\.\s+60\s+IN\s+MX\s+10 pc07\.lab\.test\.$/m);
    expect(await dig('+tcp', '+short', 'A', 'pc07.lab.test')).toBe('192.168.1.57\n');
    expect(await dig('+tcp', '+short', 'SOA', 'lab.test')).toMatch(
      /^ns\.lab\.test\. teacher\.lab\.test\. \d+ /,
    );
  });

  it('says NXDOMAIN for an unknown lab (with the SOA), REFUSED outside the zone', async () => {
    const unknown = await dig('A', 'pc99.lab.test');
    expect(unknown).toMatch(/status: NXDOMAIN/);
    expect(unknown).toMatch(/AUTHORITY SECTION:\nlab\.test\.\s+60\s+IN\s+SOA/);
    const outside = await dig('A', 'example.com');
    expect(outside).toMatch(/status: REFUSED/);
    expect(outside).not.toMatch(/flags: qr aa/);
    expect(await dig('AAAA', 'pc07.lab.test')).toMatch(/status: NOERROR.*\n.*ANSWER: 0/);
  });

  it('answers a lab registered while it runs, at once', async () => {
    registry.add('pc12', '10.0.0.12');
    expect(await dig('+short', 'A', 'pc12.lab.test')).toBe('10.0.0.12\n');
    expect(await dig('+short', 'SOA', 'lab.test')).toMatch(/ 3 3600 600 86400 60\n$/); // serial moved on
  });

  it('writes each query and its answer in the transcript, with the client address', async () => {
    await dig('MX', 'pc07.lab.test');
    const log = () => readFileSync(path.join(lab.dataDir, 'log', 'dns.ndjson'), 'utf8');
    await waitFor(() => log().includes('NOERROR MX 10 pc07.lab.test.'), { what: 'the MX answer line' });
    const lines = log()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const answer = lines.find((l) => l.line === 'NOERROR MX 10 pc07.lab.test.');
    const asked = lines.find((l) => l.session === answer.session && l.dir === 'C');
    expect(asked.line).toBe('QUERY MX pc07.lab.test');
    expect(answer.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

describe('the class DNS, asked by other clients', () => {
  it("answers Node's resolver (c-ares) pointed at it with setServers", async () => {
    const resolver = new dnsPromises.Resolver({ timeout: 3000, tries: 2 });
    resolver.setServers([`127.0.0.1:${lab.ports.dns}`]);
    // Node 24 adds fields of its own to each record (its TTL): compare the two of RFC 1035 §3.3.9.
    const mx = (await resolver.resolveMx('pc07.lab.test')).map(({ exchange, priority }) => ({
      exchange,
      priority,
    }));
    expect(mx).toEqual([{ exchange: 'pc07.lab.test', priority: 10 }]);
    expect(await resolver.resolve4('pc07.lab.test')).toEqual(['192.168.1.57']);
    await expect(resolver.resolve4('pc99.lab.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it.skipIf(!existsSync(PYTHON))(
    'answers a query python3 builds by hand with struct (stdlib only)',
    async () => {
      const script = `
import socket, struct, sys
port = int(sys.argv[1])
def ask(name, qtype):
    q = struct.pack('>HHHHHH', 0xbeef, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0' + struct.pack('>HH', qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(q, ('127.0.0.1', port)); r, _ = s.recvfrom(4096)
    ident, flags, qd, an, ns, ar = struct.unpack('>HHHHHH', r[:12])
    assert ident == 0xbeef
    # the answer's RDATA is at the end: A is 4 bytes; MX is a preference and a (compressed) name
    print(flags & 0xf, 'aa' if flags & 0x0400 else '-', an, end=' ')
    i = 12 + len(q) - 12
    i += 2 + 2 + 2 + 4  # answer name (a pointer), type, class, ttl
    rdlen = struct.unpack('>H', r[i:i+2])[0]; rdata = r[i+2:i+2+rdlen]
    print('.'.join(map(str, rdata)) if qtype == 1 else struct.unpack('>H', rdata[:2])[0])
ask('pc07.lab.test', 1)
ask('pc07.lab.test', 15)
`;
      const { stdout } = await run(PYTHON, ['-c', script, String(lab.ports.dns)]);
      expect(stdout).toBe('0 aa 1 192.168.1.57\n0 aa 1 10\n');
    },
  );
});

describe('malformed packets never stop it', () => {
  it('drops random bytes and cut headers, answers FORMERR to bad queries, and goes on answering', async () => {
    // Random datagrams of every size up to 600 bytes, and the first 0-11 bytes of a good query.
    const good = query('pc07.lab.test', 1);
    const blaster = createSocket('udp4');
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.alloc(Math.floor(Math.random() * 600));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(Math.random() * 256);
      if (junk.length > 2) junk[2] = junk[2]! & 0x7f; // a query (QR=0), so that it reaches the parser
      // Every other one with a good header and one question: the junk then reaches dns2's parser.
      if (i % 2 && junk.length > 12) good.copy(junk, 0, 0, 12);
      await new Promise((resolve) => blaster.send(junk, lab.ports.dns, '127.0.0.1', resolve));
    }
    blaster.close();
    for (let n = 0; n < 12; n++) expect(await udpExchange(good.subarray(0, n), 300)).toBeNull();
    // A name whose compression pointer points at itself (RFC 1035 §4.1.4): a loop.
    const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(rcodeOf((await udpExchange(loop))!)).toBe(1); // FORMERR
    // A question cut in the middle of its name.
    expect(rcodeOf((await udpExchange(good.subarray(0, 18)))!)).toBe(1);
    // A header announcing 65,535 questions: refused before any parsing.
    const many = Buffer.from(good);
    many.writeUInt16BE(0xffff, 4);
    expect(rcodeOf((await udpExchange(many))!)).toBe(1);
    // A label over 63 octets, a name over 255 (RFC 1035 §2.3.4): malformed.
    expect(rcodeOf((await udpExchange(query(`${'a'.repeat(64)}.lab.test`, 1)))!)).toBe(1);
    expect(rcodeOf((await udpExchange(query(`${'a.'.repeat(130)}lab.test`, 1)))!)).toBe(1);
    // A class other than IN (42) or a type nobody defined (TYPE65280, RFC 3597): REFUSED outside
    // class IN; in the zone, no record of that type (NODATA, RFC 2308 §2.2).
    const otherClass = query('pc07.lab.test', 1);
    otherClass.writeUInt16BE(42, otherClass.length - 2);
    expect(rcodeOf((await udpExchange(otherClass))!)).toBe(5);
    const typeQuery = query('pc07.lab.test', 1);
    typeQuery.writeUInt16BE(65280, typeQuery.length - 4);
    const unknownType = (await udpExchange(typeQuery))!;
    expect([rcodeOf(unknownType), unknownType.readUInt16BE(6), unknownType.readUInt16BE(8)]).toEqual([
      0, 0, 1,
    ]);
    // An UPDATE (opcode 5, RFC 2136): not implemented here.
    expect(rcodeOf((await udpExchange(query('lab.test', 6, { flags: 5 << 11 })))!)).toBe(4);
    // A reply sent to the server (QR=1) is never answered: no loop between two servers.
    expect(await udpExchange(query('pc07.lab.test', 1, { flags: 0x8000 }), 300)).toBeNull();
    // Over TCP: a length no query has closes the connection; then a good query is answered.
    await new Promise<void>((resolve) => {
      const socket = connect(lab.ports.dns, '127.0.0.1', () =>
        socket.write(Buffer.from([0xff, 0xff, 1, 2, 3])),
      );
      socket.on('close', () => resolve());
      socket.on('error', () => {});
    });
    // Over TCP: a length prefix and nothing after it holds the connection only until the idle
    // timeout (10 s, RFC 7766 §6.2.3), while other clients are answered meanwhile.
    let waited = false;
    const waiting = new Promise<void>((resolve) => {
      const socket = connect(lab.ports.dns, '127.0.0.1', () => socket.write(Buffer.from([0, 40])));
      socket.on('close', () => {
        waited = true;
        resolve();
      });
      socket.on('error', () => {});
    });
    expect(rcodeOf((await udpExchange(good))!)).toBe(0);
    expect(waited).toBe(false);
    await waiting;
    const reply = await udpExchange(good);
    expect(reply).not.toBeNull();
    expect(rcodeOf(reply!)).toBe(0);
    expect(reply!.subarray(-4).join('.')).toBe('192.168.1.57');
    expect(app.exitCode).toBeNull();
  });
});

describe('a port already in use', () => {
  it('fails the dns service with a message naming the port, UDP, and what to do', async () => {
    const other = await tempLab({ ports: { dns: lab.ports.dns } });
    try {
      const started = await startDns(other);
      try {
        expect(started.output()).toContain(
          `dns cannot listen on 127.0.0.1:${lab.ports.dns} over UDP: UDP port ${lab.ports.dns} is already in use`,
        );
        expect(started.output()).toMatch(/give dns another port in portlab.config.json/);
        // The run file, which `portlab ports` and the dashboard read, says so too.
        const runFile = path.join(other.dataDir, 'run', 'dns.json');
        const state = await waitFor(() => existsSync(runFile) && JSON.parse(readFileSync(runFile, 'utf8')), {
          what: 'the run file of the dns app',
        });
        expect(state.services.dns.state).toBe('failed');
      } finally {
        await stop(started.child);
      }
    } finally {
      other.cleanup();
    }
  });
});
