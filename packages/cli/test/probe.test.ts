import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import * as tls from 'node:tls';
import { Chain, ChainNode, labParams } from '@portlab/chain';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProbeResult, probePort, probePorts } from '../src/probe.js';

// Each step of the probe waits this long; a silent server costs four steps. Every probe runs at
// once (TLS handshakes with a 2048-bit key among them): on a busy machine a server that does answer
// may take more than a second to, and must not be taken for a silent one.
const TIMEOUT_MS = 3000;

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

/** Listens on a free port of 127.0.0.1 and keeps track of the connections, to close them all at the end. */
async function listen(server: net.Server): Promise<number> {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the probe hangs up abruptly when it has heard enough
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/**
 * A server-first line protocol: greets, then answers each command with the reply of the first command
 * prefix it starts with ('' matches anything); QUIT and LOGOUT end the session. `heard` records the commands.
 */
function talk(greeting: string, replies: Record<string, string>, heard: string[] = []) {
  return (socket: net.Socket) => {
    socket.on('error', () => {});
    socket.write(greeting);
    createInterface({ input: socket }).on('line', (line) => {
      heard.push(line);
      const command = line.toUpperCase();
      const reply = Object.entries(replies).find(([prefix]) => command.startsWith(prefix))?.[1];
      if (reply) socket.write(reply);
      if (command === 'QUIT' || command.endsWith(' LOGOUT')) socket.end();
    });
  };
}

const SMTP_REPLIES = {
  EHLO: '250-mail.lab.test\r\n250 8BITMIME\r\n',
  QUIT: '221 2.0.0 Bye\r\n',
  '': '502 5.5.2 Command not recognized\r\n',
};
const IMAP_REPLIES = { 'A1 LOGOUT': '* BYE logging out\r\na1 OK LOGOUT completed\r\n' };

const BITTORRENT_PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1');

/** BEP 3: waits for the 68-byte handshake, answers with its own; hangs up on anything else. */
function bitTorrentPeer(socket: net.Socket) {
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const prefixBytes = Math.min(received.length, BITTORRENT_PROTOCOL.length);
    if (!received.subarray(0, prefixBytes).equals(BITTORRENT_PROTOCOL.subarray(0, prefixBytes))) {
      socket.destroy();
    } else if (received.length >= 68) {
      // Same protocol string, reserved bytes and info_hash; then our peer_id, Transmission-style (BEP 20).
      socket.write(Buffer.concat([received.subarray(0, 48), Buffer.from('-TR3000-k3nq8xw2p0za')]));
    }
  });
}

function webPage(server: string) {
  return (_request: http.IncomingMessage, response: http.ServerResponse) => {
    response.setHeader('Server', server);
    response.end('hello\n');
  };
}

/** A port where nothing listens: bind it, then let it go. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const heardBySmtp: string[] = [];
const heardByFtp: string[] = [];
const heardByImap: string[] = [];
let ports: Record<string, number>;
let results: ProbeResult[];
let found: Record<string, ProbeResult>;

beforeAll(async () => {
  const { private: key, cert } = await generate([{ name: 'commonName', value: 'localhost' }], {
    algorithm: 'sha256',
    keySize: 2048,
  });
  ports = {
    smtp: await listen(net.createServer(talk('220 mail.lab.test ESMTP portlab\r\n', SMTP_REPLIES))),
    smtpTerse: await listen(net.createServer(talk('220 hello\r\n', SMTP_REPLIES, heardBySmtp))),
    ftp: await listen(
      net.createServer(
        talk('220 Welcome\r\n', { QUIT: '221 Goodbye.\r\n', '': '500 Unknown command.\r\n' }, heardByFtp),
      ),
    ),
    // As vsftpd does: a multi-line greeting, and 530 to any command before login.
    ftpMultiLine: await listen(
      net.createServer(
        talk('220-Welcome\r\n220-to the lab\r\n220 Enjoy\r\n', {
          QUIT: '221 Goodbye.\r\n',
          '': '530 Please login with USER and PASS.\r\n',
        }),
      ),
    ),
    imap: await listen(
      net.createServer(talk('* OK [CAPABILITY IMAP4rev1] ready\r\n', IMAP_REPLIES, heardByImap)),
    ),
    pop3: await listen(net.createServer(talk('+OK ready\r\n', { QUIT: '+OK bye\r\n' }))),
    ssh: await listen(net.createServer(talk('SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n', {}))),
    http: await listen(http.createServer(webPage('portlab-web/1.0'))),
    https: await listen(https.createServer({ key, cert }, webPage('portlab-secure/1.0'))),
    imaps: await listen(tls.createServer({ key, cert }, talk('* OK IMAPS ready\r\n', IMAP_REPLIES))),
    bitTorrent: await listen(net.createServer(bitTorrentPeer)),
    // The lab's own chain node (lab 08): Bitcoin's P2P protocol on regtest.
    bitcoin: await listen(new ChainNode({ chain: new Chain(labParams(8)) }).server),
    silent: await listen(net.createServer(() => {})),
    garbage: await listen(
      net.createServer((socket) => socket.write(Buffer.from('\x00\x01\xffgarbage\x1b[31m\r\n', 'latin1'))),
    ),
    answersOnly: await listen(
      net.createServer((socket) => socket.on('data', () => socket.write('ERR?\r\n'))),
    ),
    closed: await closedPort(),
  };
  // All at once, as `portlab probe` does.
  results = await probePorts('127.0.0.1', Object.values(ports), { timeoutMs: TIMEOUT_MS });
  found = Object.fromEntries(Object.keys(ports).map((name, index) => [name, results[index]!]));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('probePorts', () => {
  it('gives one result per port, in the order asked', () => {
    expect(results.map((result) => result.port)).toEqual(Object.values(ports));
    for (const result of results) {
      expect(result.host).toBe('127.0.0.1');
      expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('server-first protocols: the greeting names the protocol', () => {
  it('finds SMTP from a 220 greeting that says ESMTP', () => {
    expect(found.smtp).toMatchObject({
      open: true,
      protocol: 'SMTP',
      tls: false,
      banner: '220 mail.lab.test ESMTP portlab',
      detail: 'SMTP server (220 greeting, ESMTP)',
    });
  });

  it('asks EHLO when a bare 220 greeting could be SMTP or FTP: SMTP accepts it, then gets QUIT', () => {
    expect(found.smtpTerse).toMatchObject({ open: true, protocol: 'SMTP', tls: false, banner: '220 hello' });
    expect(found.smtpTerse!.detail).toContain('EHLO got 250');
    expect(heardBySmtp).toEqual(['EHLO probe.portlab', 'QUIT']);
  });

  it('asks EHLO when a bare 220 greeting could be SMTP or FTP: FTP refuses it', () => {
    expect(found.ftp).toMatchObject({ open: true, protocol: 'FTP', tls: false, banner: '220 Welcome' });
    expect(found.ftp!.detail).toContain('EHLO refused with 500');
    expect(heardByFtp).toEqual(['EHLO probe.portlab', 'QUIT']);
  });

  it('reads a multi-line 220 greeting to its end before asking', () => {
    expect(found.ftpMultiLine).toMatchObject({ open: true, protocol: 'FTP', banner: '220-Welcome' });
    expect(found.ftpMultiLine!.detail).toContain('EHLO refused with 530');
  });

  it('finds IMAP from "* OK", and logs out', () => {
    expect(found.imap).toMatchObject({
      open: true,
      protocol: 'IMAP',
      tls: false,
      banner: '* OK [CAPABILITY IMAP4rev1] ready',
      detail: 'IMAP server (* OK greeting)',
    });
    expect(heardByImap).toEqual(['a1 LOGOUT']);
  });

  it('finds POP3 from "+OK"', () => {
    expect(found.pop3).toMatchObject({ open: true, protocol: 'POP3', tls: false, banner: '+OK ready' });
  });

  it('finds SSH from its identification string', () => {
    expect(found.ssh).toMatchObject({
      open: true,
      protocol: 'SSH',
      banner: 'SSH-2.0-OpenSSH_9.6p1 Debian-3',
    });
  });

  it('shows an unknown greeting with its control characters escaped', () => {
    expect(found.garbage).toMatchObject({
      open: true,
      protocol: null,
      tls: false,
      banner: '\\x00\\x01\\xffgarbage\\x1b[31m',
      detail: 'open, unknown protocol',
    });
  });
});

describe('client-first protocols: the probe speaks first', () => {
  it('finds HTTP from the status line of a HEAD request, with the Server header', () => {
    expect(found.http).toMatchObject({
      open: true,
      protocol: 'HTTP',
      tls: false,
      banner: 'HTTP/1.1 200 OK — Server: portlab-web/1.0',
    });
  });

  it('finds HTTPS: a TLS handshake, then HTTP inside', () => {
    expect(found.https).toMatchObject({
      open: true,
      protocol: 'HTTP',
      tls: true,
      banner: 'HTTP/1.1 200 OK — Server: portlab-secure/1.0',
    });
    expect(found.https!.detail).toMatch(/^TLS, certificate CN=localhost \(self-signed\), then HTTP server/);
  });

  it('finds implicit-TLS IMAP: a TLS handshake, then the greeting inside', () => {
    expect(found.imaps).toMatchObject({
      open: true,
      protocol: 'IMAP',
      tls: true,
      banner: '* OK IMAPS ready',
    });
    expect(found.imaps!.detail).toBe(
      'TLS, certificate CN=localhost (self-signed), then IMAP server (* OK greeting)',
    );
  });

  it('finds a BitTorrent peer from its answer to a handshake, and names its client', () => {
    expect(found.bitTorrent).toMatchObject({
      open: true,
      protocol: 'BitTorrent',
      tls: false,
      banner: '-TR3000-',
    });
  });

  it('finds a Bitcoin node from its answer to a version message, with its network and user agent', () => {
    expect(found.bitcoin).toMatchObject({
      open: true,
      protocol: 'Bitcoin',
      tls: false,
      banner: '/portlab-chain:0.1.0/',
      detail: 'Bitcoin node, regtest (version answered: /portlab-chain:0.1.0/)',
    });
  });

  it('says so when a server accepts the connection and never speaks', () => {
    expect(found.silent).toMatchObject({
      open: true,
      protocol: null,
      tls: false,
      banner: null,
      detail: 'open, but silent: protocol unknown',
    });
  });

  it('shows what a server answered when it is no protocol the probe knows', () => {
    expect(found.answersOnly).toMatchObject({
      open: true,
      protocol: null,
      tls: false,
      banner: 'ERR?',
      detail: 'open, unknown protocol',
    });
  });
});

describe('ports that do not answer', () => {
  it('reports a closed port as refused', () => {
    expect(found.closed).toMatchObject({
      open: false,
      protocol: null,
      tls: false,
      banner: null,
      detail: 'closed (connection refused)',
    });
  });

  it('reports an impossible port instead of throwing', async () => {
    const result = await probePort('127.0.0.1', 70000, { timeoutMs: TIMEOUT_MS });
    expect(result).toMatchObject({ open: false, protocol: null, port: 70000 });
    expect(result.detail).toContain('invalid port');
  });
});
