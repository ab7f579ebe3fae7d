/**
 * A tiny DNS server for the class zone, for the mail app's own tests (issue 18, apps/mail
 * test/relay.test.ts): A and MX records per lab, as the class DNS (apps/dns) serves them, so the
 * relay's MX lookups are tested over real UDP without another app, and with an answer apps/dns
 * never gives (an A record and no MX: the implicit MX of RFC 5321 §5.1). The tests across labs
 * (test/classroom-mail.test.ts) and `npm run bench -- relay` use the real apps/dns. dns2 (pinned
 * 3.0.0: 3.1.x declares Node >= 22) builds and parses the packets.
 */
import dns2 from 'dns2';

const { Packet } = dns2;

export interface ZoneRecords {
  /** name -> IPv4 address (an A record). */
  a: Record<string, string>;
  /** name -> the mail host names for it, best first (MX records, preferences 10, 20, …). */
  mx: Record<string, string[]>;
}

export interface ZoneDns {
  address: string;
  port: number;
  /** "address:port", as `setServers()` and `mail.relay.dns` take it. */
  server: string;
  close(): Promise<void>;
}

/** Serves `records` on UDP address:port (port 0: a free one). Unknown names: NXDOMAIN; a known name without the type: no answer (NODATA). */
export async function startZoneDns(records: ZoneRecords, address = '127.0.0.1', port = 0): Promise<ZoneDns> {
  const known = (name: string) => name in records.a || name in records.mx;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      // dns2's types want Resource objects; its encoder takes plain records (as its README does).
      const answer = (record: object) => response.answers.push(record as (typeof response.answers)[number]);
      const question = request.questions[0];
      const name = (question?.name ?? '').toLowerCase();
      if (!question || !known(name)) {
        response.header.rcode = 3; // NXDOMAIN (RFC 1035 §4.1.1)
        return send(response);
      }
      if (question.type === Packet.TYPE.A && records.a[name]) {
        answer({ name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address: records.a[name] });
      }
      if (question.type === Packet.TYPE.MX) {
        (records.mx[name] ?? []).forEach((exchange, i) => {
          answer({
            name,
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl: 60,
            exchange,
            priority: 10 * (i + 1),
          });
        });
      }
      send(response);
    },
  });
  const bound = (await server.listen({ udp: { port, address } })).udp as { port: number };
  return {
    address,
    port: bound.port,
    server: `${address}:${bound.port}`,
    close: () => server.close(),
  };
}
