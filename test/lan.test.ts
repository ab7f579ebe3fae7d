/**
 * LAN mode (issue #13): every address the lab hands out is the one it serves on. A lab on 127.0.0.2
 * (any 127.x is this machine, as a LAN address would be) and one on 0.0.0.0 with public address
 * 127.0.0.3 stand for a teacher's machine; the tracker's peer lists, FTP's PASV, the autoconfig XML,
 * the FileZilla export, the home page and `portlab up`'s own lines must name that address, and the
 * lab's own clients (lab 3's demo, `portlab p2p get`) must work there.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { announce, parseMetainfo } from '@portlab/bittorrent';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, type RunningApp, type RunningLab, runCli, startApp, startLab } from './apps.js';

/** A command's exit code and everything it said. */
async function finished(run: CliRun): Promise<{ code: number | null; out: string }> {
  const code = await run.exit;
  return { code, out: run.output() };
}

/** Every <hostname> of the lab's autoconfig XML, fetched at `address`. */
async function autoconfigHosts(address: string, port: number): Promise<string[]> {
  const res = await fetch(`http://${address}:${port}/.well-known/autoconfig/mail/config-v1.1.xml`);
  const xml = await res.text();
  return [...xml.matchAll(/<hostname>([^<]*)<\/hostname>/g)].map((m) => m[1]!);
}

/** The peers the lab tracker lists for the resident peer's torrent, to a downloader from this machine. */
async function residentPeers(lab: TempLab, trackerAddress: string) {
  const meta = parseMetainfo(
    readFileSync(path.join(lab.dataDir, 'p2p', 'resident', 'portlab-demo.txt.torrent')),
  );
  const url = `http://${trackerAddress}:${lab.ports.tracker}/announce`;
  const asker = {
    infoHash: meta.infoHash,
    peerId: Buffer.from('-XX0001-lantest00001'),
    port: 1,
    uploaded: 0,
    downloaded: 0,
    left: meta.length,
  };
  const answer = await announce(url, asker);
  await announce(url, { ...asker, event: 'stopped' }); // the asker leaves the swarm it joined
  return { meta, peers: answer.peers };
}

/** An FTP control connection typed by hand: USER, PASS, then whatever the test says. */
class Ftp {
  private input = '';
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.input += d;
    });
  }
  static async open(host: string, port: number, localAddress?: string): Promise<Ftp> {
    const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const ftp = new Ftp(socket);
    await ftp.reply();
    return ftp;
  }
  /** The next complete reply (RFC 959 §4.2: the last line is "NNN text"). */
  async reply(): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const m = /(^|\n)\d{3} [^\n]*\r\n/.exec(this.input);
      if (m) {
        const end = m.index + m[0].length;
        const text = this.input.slice(0, end);
        this.input = this.input.slice(end);
        return text;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no FTP reply in 30 s; got: ${this.input}`);
  }
  async say(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }
  close(): void {
    this.socket.destroy();
  }
}

describe('a lab on 127.0.0.2', () => {
  let lab: TempLab;
  let up: RunningLab;
  beforeAll(async () => {
    lab = await tempLab({ host: '127.0.0.2' });
    up = await startLab(lab);
  }, 120_000);
  afterAll(async () => {
    await up?.stop();
    lab?.cleanup();
  });

  it("prints the lab's address on the 'Home page:' line", () => {
    expect(up.output()).toContain(`Home page: http://127.0.0.2:${lab.ports.http}/`);
  });

  it('the tracker lists the resident peer at 127.0.0.2, the address it serves on, never 127.0.0.1', async () => {
    const { peers } = await residentPeers(lab, '127.0.0.2');
    expect(peers).toContainEqual({ ip: '127.0.0.2', port: lab.ports.peer });
    expect(peers.filter((p) => p.ip !== '127.0.0.2')).toEqual([]);
  });

  it('portlab p2p get downloads the demo file from the resident peer at 127.0.0.2', async () => {
    const torrent = path.join(lab.dataDir, 'p2p', 'resident', 'portlab-demo.txt.torrent');
    const get = await finished(
      runCli(lab, 'p2p', 'get', torrent, '--out', path.join(lab.dir, 'got'), '--stall-timeout', '60'),
    );
    expect(get.code, get.out).toBe(0);
    expect(get.out).toMatch(new RegExp(`^127\\.0\\.0\\.2:${lab.ports.peer} +portlab +\\d+`, 'm'));
    expect(get.out).toMatch(/this peer listens on 127\.0\.0\.2:\d+\n/);
    expect(readFileSync(path.join(lab.dir, 'got', 'portlab-demo.txt'))).toEqual(
      readFileSync(path.join(lab.dataDir, 'p2p', 'resident', 'portlab-demo.txt')),
    );
    // What the tracker recorded, in its own transcript: only 127.0.0.2 peers handed out.
    const log = readFileSync(path.join(lab.dataDir, 'log', 'tracker.ndjson'), 'utf8');
    const handedOut = [...log.matchAll(/peers=\[([^\]]*)\]/g)].flatMap((m) =>
      m[1]!.split(' ').filter(Boolean),
    );
    expect(handedOut.length).toBeGreaterThan(0);
    expect(handedOut.filter((a) => !a.startsWith('127.0.0.2:'))).toEqual([]);
  });

  it("lab 3's demo completes: its PORT names its own address, 127.0.0.2, and the server accepts it", async () => {
    const demo = await finished(runCli(lab, 'lab', '03', '--lang', 'en'));
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toContain(`$ nc -C 127.0.0.2 ${lab.ports.ftp}`);
    expect(demo.out).toMatch(/227 Entering Passive Mode \(127,0,0,2,\d+,\d+\)/);
    expect(demo.out).toMatch(/PORT 127,0,0,2,\d+,\d+\n\s*200 /);
    expect(demo.out).not.toMatch(/\n\s*501 /);
  });

  it('the autoconfig XML, the FileZilla export and the command lines name 127.0.0.2', async () => {
    const hosts = await autoconfigHosts('127.0.0.2', lab.ports.http);
    expect(hosts.length).toBeGreaterThan(0);
    expect(new Set(hosts)).toEqual(new Set(['127.0.0.2']));
    const clients = await finished(runCli(lab, 'lab', 'clients'));
    expect(clients.code, clients.out).toBe(0);
    const sites = readFileSync(path.join(lab.dataDir, 'clients', 'filezilla-sites.xml'), 'utf8');
    const siteHosts = [...sites.matchAll(/<Host>([^<]*)<\/Host>/g)].map((m) => m[1]);
    expect(new Set(siteHosts)).toEqual(new Set(['127.0.0.2']));
    const commands = readFileSync(path.join(lab.dataDir, 'clients', 'commands.txt'), 'utf8');
    expect(commands).toContain(`curl http://127.0.0.2:${lab.ports.http}/`);
    expect(commands).not.toContain('127.0.0.1');
  });

  it('the home page tells students the address to type, with the ports', async () => {
    const home = await (await fetch(`http://127.0.0.2:${lab.ports.http}/`)).text();
    expect(home).toContain('Students: type 127.0.0.2');
    // A French browser gets the page in French (Accept-Language).
    const fr = await fetch(`http://127.0.0.2:${lab.ports.http}/`, { headers: { 'accept-language': 'fr' } });
    expect(await fr.text()).toContain('Étudiants : tapez 127.0.0.2');
    expect(home).toContain(`http://127.0.0.2:${lab.ports.http}/`);
    expect(home).toContain(`FTP 127.0.0.2 port ${lab.ports.ftp}`);
  });
});

describe('a lab on 0.0.0.0 with public address 127.0.0.3', () => {
  let lab: TempLab;
  let up: RunningLab;
  beforeAll(async () => {
    // Every interface: the demo accounts' published passwords must be allowed explicitly.
    lab = await tempLab({ host: '0.0.0.0', publicAddress: '127.0.0.3', allowDemoPasswords: true });
    up = await startLab(lab);
  }, 120_000);
  afterAll(async () => {
    await up?.stop();
    lab?.cleanup();
  });

  it('portlab up prints the public address for the home page and for the students, not 0.0.0.0', () => {
    expect(up.output()).toContain(`Home page: http://127.0.0.3:${lab.ports.http}/`);
    expect(up.output()).toMatch(/Students: type 127\.0\.0\.3 \(listening on every interface \(0\.0\.0\.0\)/);
  });

  it('PASV names 127.0.0.3, even to a client that came in by 127.0.0.1, and the data connection works there', async () => {
    const ftp = await Ftp.open('127.0.0.1', lab.ports.ftp);
    try {
      expect(await ftp.say('USER alice')).toMatch(/^331 /);
      expect(await ftp.say('PASS wonderland')).toMatch(/^230 /);
      const pasv = await ftp.say('PASV');
      const m = /^227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv);
      expect(m, pasv).not.toBeNull();
      expect(m!.slice(1, 5).join('.')).toBe('127.0.0.3');
      const port = Number(m![5]) * 256 + Number(m![6]);
      // The server takes the data connection from the control connection's address only.
      const data = connect({ host: '127.0.0.3', port, localAddress: '127.0.0.1' });
      let listing = '';
      data.on('data', (d) => {
        listing += d;
      });
      const closed = new Promise((resolve) => data.once('close', resolve));
      await new Promise<void>((resolve, reject) => {
        data.once('connect', resolve);
        data.once('error', reject);
      });
      expect(await ftp.say('LIST')).toMatch(/^1\d\d /);
      await closed;
      expect(await ftp.reply()).toMatch(/^226 /);
      expect(listing).toContain('public_html');
    } finally {
      ftp.close();
    }
  });

  it('the tracker lists the resident peer at 127.0.0.3, and the autoconfig XML names 127.0.0.3', async () => {
    const { peers } = await residentPeers(lab, '127.0.0.1');
    expect(peers).toContainEqual({ ip: '127.0.0.3', port: lab.ports.peer });
    expect(peers.filter((p) => p.ip !== '127.0.0.3')).toEqual([]);
    expect(new Set(await autoconfigHosts('127.0.0.1', lab.ports.http))).toEqual(new Set(['127.0.0.3']));
  });

  it('the resident torrent announces to the tracker at 127.0.0.3, where students reach it', () => {
    const meta = parseMetainfo(
      readFileSync(path.join(lab.dataDir, 'p2p', 'resident', 'portlab-demo.txt.torrent')),
    );
    expect(meta.announce).toBe(`http://127.0.0.3:${lab.ports.tracker}/announce`);
  });
});

describe('portlab up --host 127.0.0.4 (a flag, in no config file)', () => {
  let lab: TempLab;
  let up: RunningLab;
  beforeAll(async () => {
    lab = await tempLab();
    up = await startLab(lab, '--host', '127.0.0.4');
  }, 120_000);
  afterAll(async () => {
    await up?.stop();
    lab?.cleanup();
  });

  it('serves on 127.0.0.4, and a command typed in another terminal uses that address too', async () => {
    expect(up.output()).toContain(`Home page: http://127.0.0.4:${lab.ports.http}/`);
    expect(new Set(await autoconfigHosts('127.0.0.4', lab.ports.http))).toEqual(new Set(['127.0.0.4']));
    // The same data dir and config, without PORTLAB_HOST: the lab's record says where it runs.
    const clients = await finished(runCli(lab, 'lab', 'clients'));
    expect(clients.code, clients.out).toBe(0);
    const commands = readFileSync(path.join(lab.dataDir, 'clients', 'commands.txt'), 'utf8');
    expect(commands).toContain(`curl http://127.0.0.4:${lab.ports.http}/`);
  });
});

describe('portlab up with a bad address', () => {
  let lab: TempLab;
  beforeAll(async () => {
    lab = await tempLab();
  });
  afterAll(() => lab?.cleanup());

  it.each([
    [
      '--host that is no IP address',
      ['--host', '10.0.0.300'],
      /portlab up: --host 10\.0\.0\.300: must be an IP address/,
    ],
    ['--host given a name', ['--host', 'teacher-pc'], /portlab up: --host teacher-pc: must be an IP address/],
    [
      '--public-address 0.0.0.0',
      ['--host', '0.0.0.0', '--public-address', '0.0.0.0'],
      /portlab up: --public-address 0\.0\.0\.0: must be one address students can type/,
    ],
    [
      '--public-address that is no address',
      ['--public-address', 'x.y'],
      /--public-address x\.y: must be an IP address/,
    ],
  ])('refuses %s with a clear message and exit 2, before anything starts', async (_name, args, message) => {
    const run = await finished(runCli(lab, 'up', ...args));
    expect(run.code).toBe(2);
    expect(run.out).toMatch(message);
    expect(run.out).not.toContain('listening');
  });

  it('refuses PORTLAB_PUBLIC_ADDRESS that is no address, naming the variable', async () => {
    const run = await finished(
      runCli({ ...lab, env: { ...lab.env, PORTLAB_PUBLIC_ADDRESS: 'nowhere' } }, 'up'),
    );
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/PORTLAB_PUBLIC_ADDRESS: must be an IP address/);
  });

  it('refuses --host 0.0.0.0 while the demo accounts keep their published passwords', async () => {
    const run = await finished(runCli(lab, 'up', '--host', '0.0.0.0', '--public-address', '127.0.0.3'));
    expect(run.code).toBe(2);
    expect(run.out).toMatch(
      /Refusing to listen on 0\.0\.0\.0: the account\(s\) alice, bob still have their published demo password/,
    );
  });
});

describe('the login throttle in a class behind one NAT address (config login.*)', () => {
  let lab: TempLab;
  let files: RunningApp;
  beforeAll(async () => {
    // A long first delay, so that which answer comes first says which failures were counted together.
    lab = await tempLab({ login: { failureDelayMs: 5000, maxDelayMs: 60_000, throttleBy: 'account' } });
    files = await startApp(lab, 'files');
  }, 120_000);
  afterAll(async () => {
    await files?.stop();
    lab?.cleanup();
  });

  /** The login tries the FTP transcript holds so far (written before any delay). */
  const logins = () => {
    try {
      return readFileSync(path.join(lab.dataDir, 'log', 'ftp.ndjson'), 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}') && l.includes('"type":"login"')).length;
    } catch {
      return 0;
    }
  };

  it("one student's typos do not slow another's login from the same address: failures count per account", async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => Ftp.open('127.0.0.1', lab.ports.ftp)));
    try {
      const answered: string[] = [];
      const pass = (ftp: Ftp, who: string, password: string) =>
        ftp.say(`PASS ${password}`).then((reply) => {
          answered.push(who);
          return reply;
        });
      expect(await a!.say('USER alice')).toMatch(/^331 /);
      expect(await b!.say('USER alice')).toMatch(/^331 /);
      expect(await c!.say('USER bob')).toMatch(/^331 /);
      // alice's 1st typo (answered after 5 s), then her 2nd (after 10 s: her 2nd failure)…
      const first = pass(a!, 'alice 1', 'typo-1');
      await waitFor(() => logins() >= 1, { what: "alice's first try in the transcript" });
      const second = pass(b!, 'alice 2', 'typo-2');
      await waitFor(() => logins() >= 2, { what: "alice's second try in the transcript" });
      // …then bob's first typo, from the same address: his own first failure (5 s), not the
      // address's third (20 s), so it is answered before alice's second.
      const bob = pass(c!, 'bob 1', 'typo-3');
      const replies = await Promise.all([first, second, bob]);
      for (const reply of replies) expect(reply).toMatch(/^530 /);
      expect(answered.indexOf('bob 1')).toBeLessThan(answered.indexOf('alice 2'));
    } finally {
      for (const ftp of [a, b, c]) ftp?.close();
    }
  });
});
