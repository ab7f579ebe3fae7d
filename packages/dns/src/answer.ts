/**
 * One DNS query in, one reply out: the class DNS is authoritative for one zone and nothing else
 * (RFC 1034 §4.3.1: no recursion, RA=0). dns2 (pinned 3.0.0) reads and writes the wire format
 * (RFC 1035 §4.1); the rules of the answer are here, each beside the RFC that makes it:
 *
 *  - a name of the zone: AA=1, its records (A, MX, SOA, NS), NOERROR with no answer when the name
 *    has none of that type ("NODATA"), NXDOMAIN when no such name; both with the zone's SOA in the
 *    authority section, which tells resolvers how long to remember the absence (RFC 2308 §3);
 *  - a name outside the zone: REFUSED (RFC 1035 §4.1.1: "refuses to perform the specified
 *    operation for policy reasons"): the class DNS is nobody's resolver;
 *  - a message that is not a one-question standard query: FORMERR or NOTIMP, or nothing at all for
 *    what cannot be answered (a reply, a header cut short: answering those would help nobody, and
 *    answering a reply could start a loop between two servers).
 *
 * Everything is checked on the 12-byte header before dns2 parses the rest: a header announcing
 * 65,535 questions never reaches the parser.
 */
import dns2 from 'dns2';

const { Packet } = dns2;
type Resource = dns2.Packet.Resource;

/** RFC 1035 §4.1.1 */
export const HEADER_BYTES = 12;
/** A query bigger than this is no query of ours (a name is 255 bytes at most, RFC 1035 §2.3.4). */
export const MAX_QUERY_BYTES = 4096;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const RCODE_NAME = Object.fromEntries(Object.entries(RCODE).map(([name, code]) => [code, name]));
/** RFC 6891 §6.1.3: an extended RCODE, 16, carried half in the OPT record. */
const BADVERS = 16;

const TYPE = Packet.TYPE;
const TYPE_NAME: Record<number, string> = Object.fromEntries(
  Object.entries(TYPE).map(([name, code]) => [code, name]),
);
export function typeName(code: number): string {
  return TYPE_NAME[code] ?? `TYPE${code}`; // RFC 3597 §5
}

/** What the zone holds at a given moment. */
export interface ZoneView {
  /** The zone's name, lower case, no final dot: lab.test. */
  zone: string;
  /** Seconds every answer may be kept (and the SOA minimum, for absences: RFC 2308 §4). */
  ttl: number;
  /** The zone's SOA serial. */
  serial: number;
  /** The address of the class DNS itself, ns.<zone>. */
  nsAddress: string;
  /** Each lab: its name (one label) -> its IPv4 address. */
  labs: ReadonlyMap<string, string>;
}

export interface Answer {
  /** The reply to send, or null: the datagram is dropped. */
  reply: Buffer | null;
  /** For the transcript: `QUERY MX pc07.lab.test`, or what was wrong with the message. */
  query: string;
  /** For the transcript: `NOERROR MX 10 pc07.lab.test.`, `NXDOMAIN`, `dropped: …`. */
  result: string;
  /** The reply must fit this many bytes over UDP (RFC 1035 §4.2.1: 512; more with EDNS). */
  udpLimit: number;
}

/** EDNS (RFC 6891 §6.2.5): a payload size that fits one unfragmented packet on any LAN. */
const EDNS_PAYLOAD = 1232;
const CLASSIC_UDP_LIMIT = 512;

export function answer(message: Buffer, view: ZoneView): Answer {
  const dropped = (query: string, why: string): Answer => ({
    reply: null,
    query,
    result: `dropped: ${why}`,
    udpLimit: CLASSIC_UDP_LIMIT,
  });
  if (message.length < HEADER_BYTES) {
    return dropped(
      `(${message.length} bytes)`,
      `shorter than a DNS header (${HEADER_BYTES} bytes, RFC 1035 §4.1.1)`,
    );
  }
  if (message.length > MAX_QUERY_BYTES) {
    return dropped(`(${message.length} bytes)`, `larger than any query (${MAX_QUERY_BYTES} bytes)`);
  }
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at)) as [number, number, number, number];
  const [qdcount, ancount, nscount, arcount] = counts;
  if (flags & 0x8000) return dropped('(a reply, QR=1)', 'a server answers queries, never replies');
  const opcode = (flags >> 11) & 0xf;
  const rd = ((flags >> 8) & 1) as 0 | 1;
  const bare = (rcode: number, why: string): Answer => ({
    reply: headerOnly(id, opcode, rd, rcode),
    query: `(opcode ${opcode}, ${qdcount} question(s))`,
    result: `${RCODE_NAME[rcode]}: ${why}`,
    udpLimit: CLASSIC_UDP_LIMIT,
  });
  // RFC 1035 §4.1.1: opcode 0 is a standard query; the others (IQUERY, STATUS, NOTIFY, UPDATE) are not ours.
  if (opcode !== 0) return bare(RCODE.NOTIMP, `opcode ${opcode} is not a standard query`);
  // RFC 9619: a query holds exactly one question; a query has no answers nor authorities, and at
  // most one additional record, its EDNS OPT (RFC 6891 §6.1.1).
  if (qdcount !== 1 || ancount !== 0 || nscount !== 0 || arcount > 1) {
    return bare(
      RCODE.FORMERR,
      `a query has 1 question, no answer nor authority, at most 1 additional record (got ${counts.join(', ')})`,
    );
  }
  let request: dns2.Packet;
  try {
    request = Packet.parse(message);
  } catch (err) {
    return bare(RCODE.FORMERR, `cannot be read (${(err as Error).message})`);
  }
  // dns2 3.0.0 skips a record it cannot decode: a missing one means a malformed message.
  const question = request.questions?.[0];
  const additionals = request.additionals ?? [];
  if (!question || additionals.length !== arcount) {
    return bare(RCODE.FORMERR, 'the question or the OPT record cannot be decoded');
  }
  const opt = additionals.find((r) => r.type === TYPE.EDNS) as
    | (Resource & { version?: number; class: number })
    | undefined;
  if (arcount === 1 && !opt) return bare(RCODE.FORMERR, 'the one additional record of a query is its OPT');

  const query = `QUERY ${typeName(question.type)} ${presentation(question.name)}`;
  const response = new Packet();
  response.header = new Packet.Header({ id, qr: 1, opcode: 0, aa: 0, rd, ra: 0 });
  response.questions = [question];
  const udpLimit = opt ? Math.min(Math.max(opt.class, CLASSIC_UDP_LIMIT), EDNS_PAYLOAD) : CLASSIC_UDP_LIMIT;
  // RFC 6891 §7: a server that speaks EDNS answers an OPT with an OPT; one of a version it does not
  // know (only 0 exists) gets BADVERS.
  if (opt) {
    const edns = Packet.Resource.EDNS([]);
    edns.class = EDNS_PAYLOAD; // the OPT's CLASS is the payload size this server takes (§6.1.2)
    response.additionals = [edns];
  }
  if (opt && (opt.version ?? 0) !== 0) {
    response.header.rcode = BADVERS;
    return { reply: response.toBuffer(), query, result: `BADVERS: EDNS version ${opt.version}`, udpLimit };
  }

  const rcode = resolve(question, view, response);
  response.header.rcode = rcode;
  return { reply: response.toBuffer(), query, result: describe(rcode, response), udpLimit };
}

/** Fills the answer (and authority, additional) sections; returns the RCODE. */
function resolve(question: dns2.Packet.Question, view: ZoneView, response: dns2.Packet): number {
  // RFC 4343: names compare without regard to case; the answer keeps the case asked (RFC 1034 §4.3.2).
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const inZone = name === view.zone || name.endsWith(`.${view.zone}`);
  // Class IN, or ANY (RFC 1035 §3.2.5); CHAOS and the others are not ours.
  const isIn = question.class === Packet.CLASS.IN || question.class === Packet.CLASS.ANY;
  if (!inZone || !isIn) return RCODE.REFUSED;
  response.header.aa = 1; // RFC 1035 §4.1.1: the answer comes from the zone's own server.

  const rr = (type: number, data: object): Resource =>
    ({ name: question.name, type, class: Packet.CLASS.IN, ttl: view.ttl, ...data }) as Resource;
  const records: Resource[] = [];
  const label = name === view.zone ? '' : name.slice(0, -(view.zone.length + 1));
  const nsName = `ns.${view.zone}`;
  if (label === '') {
    records.push(rr(TYPE.SOA, soaData(view)), rr(TYPE.NS, { ns: nsName }));
  } else if (label === 'ns') {
    records.push(rr(TYPE.A, { address: view.nsAddress }));
  } else {
    const address = view.labs.get(label);
    if (address === undefined) {
      response.authorities = [soaRecord(view)];
      return RCODE.NXDOMAIN; // RFC 1035 §4.1.1, RFC 2308 §2.1: no such name in the zone
    }
    // Each lab is its own mail domain, and its own mail server: MX 10 pointing at itself (RFC 5321 §5.1).
    records.push(rr(TYPE.A, { address }), rr(TYPE.MX, { priority: 10, exchange: name }));
  }
  const wanted = question.type === TYPE.ANY ? records : records.filter((r) => r.type === question.type);
  response.answers = wanted;
  if (wanted.length === 0) response.authorities = [soaRecord(view)]; // NODATA (RFC 2308 §2.2)
  // The address of the name an MX or NS record names, so the client need not ask (RFC 1035 §3.3.9).
  const glue = wanted.flatMap((r) =>
    r.type === TYPE.NS ? [{ ...rr(TYPE.A, { address: view.nsAddress }), name: nsName }] : [],
  );
  const mx = wanted.find((r) => r.type === TYPE.MX);
  if (mx && question.type === TYPE.MX) glue.push({ ...rr(TYPE.A, { address: view.labs.get(label)! }), name });
  response.additionals = [...glue, ...response.additionals];
  return RCODE.NOERROR;
}

function soaData(view: ZoneView): object {
  // RFC 1035 §3.3.13. RNAME is a mailbox with its first dot for the @: teacher.lab.test is teacher@lab.test.
  return {
    primary: `ns.${view.zone}`,
    admin: `teacher.${view.zone}`,
    serial: view.serial,
    refresh: 3600,
    retry: 600,
    expiration: 86_400,
    minimum: view.ttl,
  };
}

function soaRecord(view: ZoneView): Resource {
  return {
    name: view.zone,
    type: TYPE.SOA,
    class: Packet.CLASS.IN,
    ttl: view.ttl,
    ...soaData(view),
  } as Resource;
}

/** The transcript's S: line: `NOERROR MX 10 pc07.lab.test.`, `NXDOMAIN`, `NOERROR (no AAAA record)`. */
function describe(rcode: number, response: dns2.Packet): string {
  const status = RCODE_NAME[rcode] ?? String(rcode);
  if (rcode !== RCODE.NOERROR) return status;
  if (response.answers.length === 0) return `${status} (no ${typeName(response.questions[0]!.type)} record)`;
  return `${status} ${response.answers.map(rdataText).join(', ')}`;
}

export function rdataText(r: Resource): string {
  const x = r as Resource & Record<string, unknown>;
  switch (r.type) {
    case TYPE.A:
      return `A ${x.address}`;
    case TYPE.MX:
      return `MX ${x.priority} ${x.exchange}.`;
    case TYPE.NS:
      return `NS ${x.ns}.`;
    case TYPE.SOA:
      return `SOA ${x.primary}. ${x.admin}. ${x.serial}`;
    default:
      return typeName(r.type);
  }
}

/**
 * A name as dig prints it (RFC 1035 §5.1): a byte that is not a printable character as \DDD in
 * decimal. A name on the wire may hold any byte, and the transcript must not carry escape
 * sequences to the terminal of `portlab watch`.
 */
function presentation(name: string): string {
  return name.replace(/[^\x21-\x7e]|\\/g, (c) => `\\${c.charCodeAt(0).toString().padStart(3, '0')}`);
}

/** A reply of a header alone (FORMERR, NOTIMP): the id and opcode echoed, no section (RFC 1035 §4.1.1). */
function headerOnly(id: number, opcode: number, rd: number, rcode: number): Buffer {
  const reply = Buffer.alloc(HEADER_BYTES);
  reply.writeUInt16BE(id, 0);
  reply.writeUInt16BE(0x8000 | (opcode << 11) | (rd << 8) | rcode, 2);
  return reply;
}

/**
 * Fits a UDP reply in `limit` bytes: a longer one goes out as its header and question with TC=1,
 * and the client asks again over TCP (RFC 1035 §4.2.1, RFC 2181 §9).
 */
export function fitUdp(reply: Buffer, limit: number): Buffer {
  if (reply.length <= limit) return reply;
  const packet = Packet.parse(reply);
  packet.header.tc = 1;
  packet.answers = [];
  packet.authorities = [];
  packet.additionals = [];
  return packet.toBuffer().subarray(0, limit);
}
