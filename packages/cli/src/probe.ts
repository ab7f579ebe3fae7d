/**
 * `portlab probe`: which service answers on a port? (lab 1, "ports")
 *
 * A port number is only a convention: 25 is SMTP because everybody agrees so, and nothing checks it.
 * So the probe does not trust the number. It connects and listens, as a student does with nc:
 *
 * 1. Connect over TCP. A refusal means the port is closed; no answer at all, that a firewall
 *    drops the packets or the host is down.
 * 2. SMTP, FTP, IMAP, POP3 and SSH are "server speaks first": their greeting names the protocol.
 * 3. A silent server waits for the client to speak first. Ask it, each on a fresh connection:
 *    a TLS handshake (then start over inside TLS), an HTTP request, a BitTorrent handshake, a Bitcoin version.
 *
 * Every step waits at most `timeoutMs`, every socket is destroyed in the end, and a probe never rejects.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface ProbeResult {
  host: string;
  port: number;
  /** The TCP connection succeeded. */
  open: boolean;
  /** 'SMTP' | 'IMAP' | 'POP3' | 'FTP' | 'HTTP' | 'BitTorrent' | 'Bitcoin' | 'SSH' | 'DNS', or null when unknown or closed. */
  protocol: string | null;
  /** The service spoke TLS from the first byte (implicit TLS: SMTPS, IMAPS, POP3S, FTPS, HTTPS). */
  tls: boolean;
  /** The greeting line, or the HTTP status line and Server header; control characters escaped. */
  banner: string | null;
  /** One sentence for a human, e.g. 'SMTP server (220 greeting, ESMTP)'. */
  detail: string;
  elapsedMs: number;
}

export interface ProbeOptions {
  /** How long each step (connect, greeting, answer) may take; default 1000. */
  timeoutMs?: number;
  /** Ports of UDP services (DNS): also asked a DNS query over UDP, which no TCP connect can find. */
  udpPorts?: ReadonlySet<number>;
}

/** What one step learned about the service. */
type Identification = Pick<ProbeResult, 'protocol' | 'banner' | 'detail'>;
/** What the whole probe learned, before host, port and time are added. */
type Finding = Omit<ProbeResult, 'host' | 'port' | 'elapsedMs'>;

const DEFAULT_TIMEOUT_MS = 1000;
/** Probes run side by side, but not a whole port range at once: each one holds a socket. */
const PARALLEL_PROBES = 64;
/** Enough for any greeting; a server that floods (chargen, RFC 864) is not read any further. */
const MAX_REPLY_BYTES = 4096;
const MAX_BANNER_CHARS = 200;
const QUIT = 'QUIT\r\n';

export async function probePort(
  host: string,
  port: number,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const started = performance.now();
  let finding: Finding;
  try {
    finding = await identify(host, port, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (options.udpPorts?.has(port))
      finding =
        (await askDnsOverUdp(host, port, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, finding)) ?? finding;
  } catch (error) {
    // Not expected: each step turns network failures into a finding. Still, a probe never rejects.
    finding = notOpen(`probe failed: ${(error as Error).message}`);
  }
  // Field by field, to keep this order in JSON output whatever the step that found them.
  return {
    host,
    port,
    open: finding.open,
    protocol: finding.protocol,
    tls: finding.tls,
    banner: finding.banner,
    detail: finding.detail,
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** Probes several ports at the same time; the results come in the order of `ports`. */
export async function probePorts(
  host: string,
  ports: number[],
  options: ProbeOptions = {},
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ports.length) {
      const index = next++;
      results[index] = await probePort(host, ports[index]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PROBES, ports.length) }, worker));
  return results;
}

async function identify(host: string, port: number, timeoutMs: number): Promise<Finding> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return notOpen(`invalid port ${port}: TCP ports go from 1 to 65535`);
  }
  const conversation = await connect(host, port, timeoutMs, false);
  if (typeof conversation === 'string') return notOpen(conversation);
  const greeting = await conversation.read(isCompleteReply);
  if (greeting.length === 0) {
    conversation.close();
    return identifySilent(host, port, timeoutMs);
  }
  const answer = await classifyGreeting(conversation, greeting);
  return {
    open: true,
    tls: false,
    ...answer,
    detail: answer.protocol ? answer.detail : 'open, unknown protocol',
  };
}

/**
 * A silent server waits for the client to speak first. Ask in turn, each on a fresh connection since a
 * wrong question may end the conversation. TLS first: a TLS server, too, waits for the client's hello
 * (RFC 8446 §2), and a plain server answers it with an error or a hang-up, which ends the handshake at once.
 */
async function identifySilent(host: string, port: number, timeoutMs: number): Promise<Finding> {
  const secure = await connect(host, port, timeoutMs, true);
  if (typeof secure !== 'string') return identifyInsideTls(secure, host, port);

  const questions = [
    (conversation: Conversation) => askHttp(conversation, host, port),
    askBitTorrent,
    askBitcoin,
  ];
  let unknownReply: string | null = null;
  for (const ask of questions) {
    const conversation = await connect(host, port, timeoutMs, false);
    if (typeof conversation === 'string') continue;
    const answer = await ask(conversation);
    if (answer.protocol) return { open: true, tls: false, ...answer };
    unknownReply ??= answer.banner;
  }
  if (unknownReply !== null) {
    return { open: true, protocol: null, tls: false, banner: unknownReply, detail: 'open, unknown protocol' };
  }
  return {
    open: true,
    protocol: null,
    tls: false,
    banner: null,
    detail: 'open, but silent: protocol unknown',
  };
}

/** Implicit TLS (SMTPS, IMAPS, POP3S, FTPS, HTTPS): the same questions, inside the encrypted channel. */
async function identifyInsideTls(conversation: Conversation, host: string, port: number): Promise<Finding> {
  // connect() made this socket with tls.connect.
  const certificate = describeCertificate(conversation.socket as tls.TLSSocket);
  const greeting = await conversation.read(isCompleteReply);
  const answer =
    greeting.length > 0
      ? await classifyGreeting(conversation, greeting)
      : await askHttp(conversation, host, port);
  return {
    open: true,
    tls: true,
    ...answer,
    detail: `TLS, certificate ${certificate}, then ${answer.detail}`,
  };
}

/**
 * Server-first protocols announce themselves in their greeting, and each has its own way to leave:
 * - IMAP, RFC 3501 §7.1: an untagged "* OK", "* PREAUTH" (already logged in) or "* BYE" (refused);
 *   LOGOUT ends the session (§6.1.3).
 * - POP3, RFC 1939 §4: "+OK" and some text; QUIT ends the session (§6).
 * - SSH, RFC 4253 §4.2: "SSH-protoversion-softwareversion"; SSH has no goodbye line, we just hang up.
 * - SMTP and FTP both greet with a "220" reply: see smtpOrFtp.
 */
const GREETINGS = [
  { pattern: /^\* (OK|PREAUTH|BYE)\b/i, protocol: 'IMAP', goodbye: 'a1 LOGOUT\r\n' },
  { pattern: /^\+OK\b/, protocol: 'POP3', goodbye: QUIT },
  { pattern: /^SSH-[\d.]+/, protocol: 'SSH', goodbye: undefined },
];

async function classifyGreeting(conversation: Conversation, received: Buffer): Promise<Identification> {
  const greeting = received.toString('latin1');
  const banner = printable(firstLine(greeting));
  if (/^220[ -]/.test(greeting)) return { banner, ...(await smtpOrFtp(conversation, greeting)) };
  const known = GREETINGS.find(({ pattern }) => pattern.test(greeting));
  conversation.close(known?.goodbye);
  if (!known) return unrecognised(received);
  const opening = known.pattern.exec(greeting)?.[0];
  return { protocol: known.protocol, banner, detail: `${known.protocol} server (${opening} greeting)` };
}

/**
 * "220" opens both an SMTP session (RFC 5321 §3.1, §4.2.3: "220 Service ready") and an FTP session
 * (RFC 959 §5.4: "220 Service ready for new user"). Most servers name their protocol in the greeting.
 * When one does not, ask something only SMTP knows: EHLO (RFC 5321 §4.1.1.1), which an SMTP server
 * accepts with 250, and an FTP server refuses with 500 or 502 (unknown command, RFC 959 §4.2) or 530
 * (log in first). QUIT ends both sessions (RFC 5321 §4.1.1.10, RFC 959 §4.1.1).
 */
async function smtpOrFtp(
  conversation: Conversation,
  greeting: string,
): Promise<Omit<Identification, 'banner'>> {
  if (/smtp/i.test(greeting)) {
    conversation.close(QUIT);
    return {
      protocol: 'SMTP',
      detail: `SMTP server (220 greeting${/esmtp/i.test(greeting) ? ', ESMTP' : ''})`,
    };
  }
  if (/ftp/i.test(greeting)) {
    conversation.close(QUIT);
    return { protocol: 'FTP', detail: 'FTP server (220 greeting)' };
  }
  conversation.send('EHLO probe.portlab\r\n');
  const reply = (await conversation.read(isCompleteReply)).toString('latin1');
  conversation.close(QUIT);
  if (reply.startsWith('250'))
    return { protocol: 'SMTP', detail: 'SMTP server (220 greeting, ESMTP: EHLO got 250)' };
  if (/^5\d\d/.test(reply)) {
    return { protocol: 'FTP', detail: `FTP server (220 greeting, EHLO refused with ${reply.slice(0, 3)})` };
  }
  return { protocol: null, detail: 'unknown protocol' };
}

/**
 * HTTP is client-first: send a request, read the status line (RFC 9112 §3, §4), e.g. "HTTP/1.1 200 OK".
 * HEAD asks for the headers only (RFC 9110 §9.3.2); HTTP/1.1 requires Host (RFC 9110 §7.2);
 * "Connection: close" asks the server to hang up once it has answered (RFC 9112 §9.6).
 */
async function askHttp(conversation: Conversation, host: string, port: number): Promise<Identification> {
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  conversation.send(`HEAD / HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
  const reply = await conversation.read((received) => received.includes('\r\n\r\n'));
  conversation.close();
  const headers = reply.toString('latin1').split('\r\n\r\n')[0] ?? '';
  if (!headers.startsWith('HTTP/')) return unrecognised(reply);
  const statusLine = printable(firstLine(headers));
  const server = /^server:([^\r\n]*)/im.exec(headers)?.[1];
  return {
    protocol: 'HTTP',
    banner: server === undefined ? statusLine : `${statusLine} — Server: ${printable(server)}`,
    detail: `HTTP server (HEAD / got ${statusLine.split(' ')[1] ?? 'no status code'})`,
  };
}

/**
 * BitTorrent peers are client-first too. BEP 3, "peer protocol": the side that connects sends its
 * handshake at once: the byte 19, "BitTorrent protocol", 8 reserved bytes, the 20-byte info_hash of the
 * torrent it wants and its 20-byte peer_id, 68 bytes in all. A peer answers with its own handshake. We
 * ask for a random torrent, and a peer that does not serve it must hang up (BEP 3): silence here does
 * not prove that no BitTorrent peer listens.
 */
const BITTORRENT_PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1');
const HANDSHAKE_BYTES = 68;

async function askBitTorrent(conversation: Conversation): Promise<Identification> {
  const infoHash = randomBytes(20);
  const peerId = randomBytes(20);
  conversation.send(Buffer.concat([BITTORRENT_PROTOCOL, Buffer.alloc(8), infoHash, peerId]));
  const reply = await conversation.read((received) => received.length >= HANDSHAKE_BYTES);
  conversation.close();
  if (!reply.subarray(0, BITTORRENT_PROTOCOL.length).equals(BITTORRENT_PROTOCOL)) return unrecognised(reply);
  const theirPeerId = reply.subarray(48, HANDSHAKE_BYTES).toString('latin1');
  return {
    protocol: 'BitTorrent',
    banner: clientOf(theirPeerId),
    detail: 'BitTorrent peer (handshake answered)',
  };
}

/**
 * Bitcoin nodes are client-first as well: the side that connects sends `version` (developer reference,
 * "P2P Network"). A message is framed by the network's 4 magic bytes, the command, the length and a
 * checksum (the first 4 bytes of SHA256(SHA256(payload))). We send a minimal version on regtest
 * (magic fabfb5da, the lab chain's network); a node answers with its own version, whose user agent
 * names it. A node of another network answers nothing, or its own magic: named too.
 */
const BITCOIN_NETWORKS: Record<string, string> = {
  fabfb5da: 'regtest',
  f9beb4d9: 'mainnet',
  '0b110907': 'testnet3',
};

function bitcoinVersionMessage(): Buffer {
  const payload = Buffer.alloc(86);
  payload.writeInt32LE(70016, 0);
  payload.writeBigUInt64LE(BigInt(Math.floor(Date.now() / 1000)), 12);
  // services 0, two empty addresses; the nonce at 72; then user agent empty (varint 0 at 80),
  // start height 0, relay false: 86 bytes in all.
  randomBytes(8).copy(payload, 72);
  const head = Buffer.alloc(24);
  Buffer.from('fabfb5da', 'hex').copy(head, 0);
  head.write('version', 4, 'ascii');
  head.writeUInt32LE(payload.length, 16);
  createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().copy(head, 20, 0, 4);
  return Buffer.concat([head, payload]);
}

async function askBitcoin(conversation: Conversation): Promise<Identification> {
  conversation.send(bitcoinVersionMessage());
  const reply = await conversation.read(
    (r) => r.length >= 24 + 81 && r.length >= 24 + 81 + (r[24 + 80] ?? 0),
  );
  conversation.close();
  const network = BITCOIN_NETWORKS[reply.subarray(0, 4).toString('hex')];
  const command = reply.subarray(4, 16).toString('latin1').replace(/\0+$/, '');
  if (!network || command !== 'version') return unrecognised(reply);
  // version payload: 80 fixed bytes (version, services, time, two addresses, nonce), then the user agent.
  const length = reply[24 + 80] ?? 0;
  const agent = length < 0xfd ? reply.subarray(24 + 81, 24 + 81 + length).toString('latin1') : '';
  return {
    protocol: 'Bitcoin',
    banner: printable(agent),
    detail: `Bitcoin node, ${network} (version answered${agent ? `: ${printable(agent)}` : ''})`,
  };
}

/** BEP 20: most clients start their peer_id with "-XXnnnn-" (-TR3000- is Transmission 3.00). */
function clientOf(peerId: string): string {
  return /^-[A-Za-z~]{2}[0-9A-Za-z]{4}-/.exec(peerId)?.[0] ?? printable(peerId);
}

/** Who the certificate names (subject CN) and who signed it (issuer CN): the same name, it signed itself. */
function describeCertificate(socket: tls.TLSSocket): string {
  const { subject, issuer } = socket.getPeerCertificate();
  const name = printable(String(subject?.CN ?? '(no name)'));
  const signer = printable(String(issuer?.CN ?? '(no name)'));
  return name === signer ? `CN=${name} (self-signed)` : `CN=${name}, issued by CN=${signer}`;
}

/** Why a connection failed, in the words of the lab. */
const CONNECT_FAILURES: Record<string, string> = {
  // The host answered with a TCP RST: nothing listens on that port.
  ECONNREFUSED: 'closed (connection refused)',
  // No answer at all: a firewall dropped our SYN, or the host is down.
  ETIMEDOUT: 'no answer (filtered or host down)',
  EHOSTUNREACH: 'unreachable (no route to host)',
  ENETUNREACH: 'unreachable (no route to network)',
  ENOTFOUND: 'unknown host (DNS found no address)',
};

/** Opens a connection, plain TCP or TLS; resolves with a conversation, or with why it failed. */
function connect(
  host: string,
  port: number,
  timeoutMs: number,
  overTls: boolean,
): Promise<Conversation | string> {
  return new Promise((resolve) => {
    const socket = overTls
      ? // A lab certificate is self-signed: accept it, it is only described. SNI takes a name, never an IP (RFC 6066 §3).
        tls.connect({
          host,
          port,
          rejectUnauthorized: false,
          ...(net.isIP(host) ? {} : { servername: host }),
        })
      : net.connect({ host, port });
    const settle = (outcome: Conversation | string) => {
      clearTimeout(timer);
      if (typeof outcome === 'string') socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle(CONNECT_FAILURES.ETIMEDOUT!), timeoutMs);
    socket.once(overTls ? 'secureConnect' : 'connect', () => settle(new Conversation(socket, timeoutMs)));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      settle(CONNECT_FAILURES[error.code ?? ''] ?? `connection failed (${error.code ?? error.message})`);
    });
  });
}

/**
 * One connection seen as a conversation: send something, read the answer. A read waits at most
 * timeoutMs, so a silent or slow server never makes the probe hang.
 */
class Conversation {
  private received = Buffer.alloc(0);
  private ended = false;
  private wake = () => {};

  constructor(
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (this.received.length < MAX_REPLY_BYTES) this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {}); // 'close' follows every error, and is handled above
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** What the server said, once `isEnough` says it is all, or the server hangs up, or time is up. */
  read(isEnough: (received: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = () => {};
        resolve(this.received);
        this.received = Buffer.alloc(0);
      };
      const timer = setTimeout(finish, this.timeoutMs);
      this.wake = () => {
        if (this.ended || this.received.length >= MAX_REPLY_BYTES || isEnough(this.received)) finish();
      };
      this.wake();
    });
  }

  /** Says goodbye the protocol's way (QUIT, LOGOUT) and hangs up; the socket is gone after timeoutMs. */
  close(goodbye?: string): void {
    if (goodbye) this.socket.end(goodbye);
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), this.timeoutMs).unref();
  }
}

/**
 * A reply is complete at the end of its first line, except a multi-line reply (RFC 5321 §4.2.1,
 * RFC 959 §4.2): "220-..." lines go on until a line with the code and no dash, "220 ...".
 */
function isCompleteReply(received: Buffer): boolean {
  const text = received.toString('latin1');
  if (/^\d{3}-/.test(text)) return /\n\d{3}(?!-)[^\n]*\n/.test(text);
  return text.includes('\n');
}

function unrecognised(reply: Buffer): Identification {
  if (reply.length === 0) return { protocol: null, banner: null, detail: 'silent: protocol unknown' };
  return {
    protocol: null,
    banner: printable(firstLine(reply.toString('latin1'))),
    detail: 'unknown protocol',
  };
}

function notOpen(detail: string): Finding {
  return { open: false, protocol: null, tls: false, banner: null, detail };
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

const NAMED_ESCAPES: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };

/** Safe to show in a terminal: a server may send anything, even escape sequences. At most 200 characters. */
function printable(text: string): string {
  const escaped = text.trim().replace(/[^\x20-\x7e]/g, (char) => {
    const code = char.charCodeAt(0).toString(16);
    return (
      NAMED_ESCAPES[char] ??
      (code.length <= 2 ? `\\x${code.padStart(2, '0')}` : `\\u${code.padStart(4, '0')}`)
    );
  });
  return escaped.length <= MAX_BANNER_CHARS ? escaped : `${escaped.slice(0, MAX_BANNER_CHARS - 1)}…`;
}

/**
 * UDP has no connection to try: the only way to know a UDP service is there is to ask it something
 * in its own protocol, and wait. Ask what a DNS client asks (RFC 1035 §4.1): a query with a random
 * id for the SOA of lab.test, recursion not desired. A DNS server answers with the same id and QR=1,
 * whatever it knows of lab.test (REFUSED, NXDOMAIN, or the zone). Silence proves nothing: UDP
 * packets to a closed port may be dropped without a word. Resolves null when nothing answered.
 */
const DNS_PROBE_NAME = 'lab.test';
const DNS_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function askDnsOverUdp(
  host: string,
  port: number,
  timeoutMs: number,
  overTcp: Finding,
): Promise<Finding | null> {
  const id = randomBytes(2).readUInt16BE(0);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // one question, RD=0
  const name = Buffer.concat([
    ...DNS_PROBE_NAME.split('.').map((label) =>
      Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]),
    ),
    Buffer.from([0, 0, 6, 0, 1]), // root label, QTYPE SOA (6), QCLASS IN (1)
  ]);
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const finish = (finding: Finding | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(finding);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', () => finish(null)); // ICMP port unreachable on a connected socket: nobody there
    socket.on('message', (reply) => {
      if (reply.length < 12 || reply.readUInt16BE(0) !== id || !(reply[2]! & 0x80)) return; // not our answer
      const flags = reply.readUInt16BE(2);
      const status = DNS_RCODES[flags & 0xf] ?? `RCODE ${flags & 0xf}`;
      const named = [flags & 0x0400 ? 'authoritative' : '', flags & 0x0080 ? 'recursion available' : '']
        .filter(Boolean)
        .join(', ');
      finish({
        open: true,
        protocol: 'DNS',
        tls: false,
        banner: `${status} for ${DNS_PROBE_NAME} SOA${named ? ` (${named})` : ''}, ${reply.readUInt16BE(6)} answer(s)`,
        detail: `DNS server over UDP${overTcp.open ? ' and TCP' : ''} (answered a query)`,
      });
    });
    socket.connect(port, host, () => socket.send(Buffer.concat([header, name])));
  });
}
