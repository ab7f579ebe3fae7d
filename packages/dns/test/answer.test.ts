import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dns2 from 'dns2';
import { afterAll, describe, expect, it } from 'vitest';
import { answer, fitUdp, liveZone, RCODE, ZoneRegistry, type ZoneView } from '../src/index.js';

const { Packet } = dns2;

const view: ZoneView = {
  zone: 'lab.test',
  ttl: 60,
  serial: 9,
  nsAddress: '192.168.1.20',
  labs: new Map([['pc07', '192.168.1.57']]),
};

/** A query as a stub resolver sends it, built with dns2 (another encoder than ours: the header is ours). */
function query(name: string, type: number, edns?: { version?: number; udpPayloadSize?: number }): Buffer {
  const packet = new Packet();
  packet.header.id = 4242;
  packet.header.rd = 1;
  packet.questions.push({ name, type, class: Packet.CLASS.IN } as dns2.Packet.Question);
  if (edns) {
    // RFC 6891 §6.1.3: the OPT's CLASS is the payload size, its TTL holds the version.
    const opt = Packet.Resource.EDNS([]);
    opt.class = edns.udpPayloadSize ?? 1232;
    opt.ttl = (edns.version ?? 0) << 16;
    packet.additionals.push(opt);
  }
  return packet.toBuffer();
}

const parse = (reply: Buffer | null) => Packet.parse(reply!);

describe('answer(): the rules of an authoritative server for one zone', () => {
  it('keeps the case a client asked in (0x20 resolvers), and matches names without regard to it (RFC 4343)', () => {
    const reply = parse(answer(query('Pc07.LAB.test', Packet.TYPE.A), view).reply);
    expect(reply.header).toMatchObject({ id: 4242, qr: 1, aa: 1, ra: 0, rd: 1, rcode: RCODE.NOERROR });
    expect(reply.answers).toMatchObject([{ name: 'Pc07.LAB.test', address: '192.168.1.57', ttl: 60 }]);
  });

  it('answers NS with the address of ns.<zone> beside it, and ANY with every record of the name', () => {
    const ns = parse(answer(query('lab.test', Packet.TYPE.NS), view).reply);
    expect(ns.answers).toMatchObject([{ ns: 'ns.lab.test' }]);
    expect(ns.additionals).toMatchObject([{ name: 'ns.lab.test', address: '192.168.1.20' }]);
    const any = answer(query('pc07.lab.test', Packet.TYPE.ANY), view);
    expect(any.result).toBe('NOERROR A 192.168.1.57, MX 10 pc07.lab.test.');
  });

  it('answers an EDNS query with an OPT, and BADVERS to a version it does not know (RFC 6891)', () => {
    const ok = parse(answer(query('pc07.lab.test', Packet.TYPE.MX, { udpPayloadSize: 4096 }), view).reply);
    expect(ok.additionals.find((r) => r.type === Packet.TYPE.EDNS)).toMatchObject({ class: 1232 });
    const v1 = answer(query('pc07.lab.test', Packet.TYPE.MX, { version: 1 }), view);
    expect(v1.result).toBe('BADVERS: EDNS version 1');
    expect(parse(v1.reply).header.rcode).toBe(16); // 12 bits: 1 in the OPT's TTL, 0 in the header
  });

  it('refuses another class than IN (CHAOS version.bind) and a name that only ends like the zone', () => {
    const chaos = new Packet();
    chaos.questions.push({ name: 'version.bind', type: Packet.TYPE.TXT, class: Packet.CLASS.CH } as never);
    expect(answer(chaos.toBuffer(), view).result).toBe('REFUSED');
    expect(answer(query('evillab.test', Packet.TYPE.A), view).result).toBe('REFUSED');
  });

  it('writes a name with control bytes as \\DDD in the transcript, as dig prints it (RFC 1035 §5.1)', () => {
    const asked = answer(query('\x1b[31mred.lab.test', Packet.TYPE.A), view);
    expect(asked.query).toBe('QUERY A \\027[31mred.lab.test');
    expect(asked.result).toBe('NXDOMAIN');
  });

  it('cuts a UDP reply that does not fit to its question, with TC=1 (RFC 1035 §4.2.1)', () => {
    const long = { ...view, labs: new Map([['a'.repeat(63), '10.0.0.1']]) };
    const name = `${'a'.repeat(63)}.lab.test`;
    const full = answer(query(name, Packet.TYPE.ANY), long).reply!;
    const cut = fitUdp(full, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(parse(cut).header.tc).toBe(1);
    expect(fitUdp(full, 4096)).toBe(full);
  });
});

describe('liveZone(): zone.json as the server answers it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'portlab-dns-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows each change, and keeps the last good zone when the file is broken by hand', () => {
    const registry = new ZoneRegistry(dir);
    const zone = liveZone(registry, { zone: 'lab.test', ttl: 60, nsAddress: '127.0.0.1' });
    expect(zone().labs.size).toBe(0);
    registry.add('pc07', '192.168.1.57');
    expect(zone().labs.get('pc07')).toBe('192.168.1.57');
    writeFileSync(registry.file, '{"serial": 3, "entries": [ broken');
    expect(zone().labs.get('pc07')).toBe('192.168.1.57');
    expect(() => registry.list()).toThrow(/zone.json is not valid JSON/);
    writeFileSync(
      registry.file,
      '{"serial": 4, "entries": [{"name": "pc08", "address": "10.0.0.8", "account": null}]}',
    );
    expect([...zone().labs]).toEqual([['pc08', '10.0.0.8']]);
  });

  it('sees an edit to the same size that kept the modification time (cp -p, rsync -t): the change time tells', () => {
    const registry = new ZoneRegistry(dir);
    const zone = liveZone(registry, { zone: 'lab.test', ttl: 60, nsAddress: '127.0.0.1' });
    const entry = (name: string) =>
      `{"serial": 5, "entries": [{"name": "${name}", "address": "10.0.0.9", "account": null}]}`;
    const then = new Date('2026-01-05T08:00:00Z');
    writeFileSync(registry.file, entry('pc09'));
    utimesSync(registry.file, then, then);
    expect([...zone().labs.keys()]).toEqual(['pc09']);
    writeFileSync(registry.file, entry('pc10')); // same size, same inode, and then the same mtime
    utimesSync(registry.file, then, then);
    expect([...zone().labs.keys()]).toEqual(['pc10']);
  });
});
