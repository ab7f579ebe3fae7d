/**
 * A spy on the wire: a relay between a client and a server that keeps every byte passing through,
 * as a network analyser (Wireshark, tcpdump) on the path would see them. Lab 2 puts it in front of
 * the SMTP port to show that after STARTTLS the bytes can no longer be read.
 */
import { connect, createServer, type Server } from 'node:net';

export interface Capture {
  /** '>' client to server, '<' server to client. */
  dir: '>' | '<';
  bytes: Buffer;
}

export class Wiretap {
  readonly captured: Capture[] = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async open(host: string, targetPort: number): Promise<Wiretap> {
    let tap: Wiretap | undefined;
    const server = createServer((client) => {
      const upstream = connect({ host, port: targetPort });
      client.on('data', (bytes) => {
        tap?.captured.push({ dir: '>', bytes });
        upstream.write(bytes);
      });
      upstream.on('data', (bytes) => {
        tap?.captured.push({ dir: '<', bytes });
        client.write(bytes);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    tap = new Wiretap(server, (server.address() as { port: number }).port);
    return tap;
  }

  close(): void {
    this.server.close();
  }
}

/** How bytes look to someone reading them: printable ASCII kept, the rest shown as dots. */
export function asSeenOnTheWire(bytes: Buffer, max = 64): string {
  return [...bytes.subarray(0, max)]
    .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'))
    .join('');
}

/** The first bytes in hexadecimal, e.g. "16 03 01 …" (a TLS handshake record, RFC 8446 §5.1). */
export function hex(bytes: Buffer, max = 16): string {
  return [...bytes.subarray(0, max)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
