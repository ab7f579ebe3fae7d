import { createServer, type Server } from 'node:net';
import { ReplyError } from './reply-error.js';

/**
 * The data ports of passive mode (RFC 959 PASV, RFC 2428 EPSV): each transfer gets a port of the
 * range to itself, held from the PASV reply until its data connection closes. ftp-srv's own picker
 * tries only five ports and forgets which it gave, so with a small range parallel transfers fail with
 * "Unable to find valid port", or two sessions race for one port. This one tries every port of the
 * range once, skips those held here or taken by another program, and says plainly when all are busy.
 * acquire() reserves a port, attach() hands it to the data server that listens on it.
 */
export class PassivePorts {
  /** Ports given out: null while the PASV that took it sets up, then the data server listening on it. */
  private readonly held = new Map<number, Server | null>();
  private next: number;

  constructor(
    private readonly host: string,
    readonly from: number,
    readonly to: number,
  ) {
    this.next = from;
  }

  /** A free port of the range, now held until `release`. Fails with 425 when every port is busy. */
  async acquire(): Promise<number> {
    const size = this.to - this.from + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = this.next;
      this.next = port === this.to ? this.from : port + 1;
      if (this.busy(port)) continue;
      this.held.set(port, null); // Held before the check, so a PASV in another session skips it meanwhile.
      if (await canListen(this.host, port)) return port;
      this.held.delete(port);
    }
    const holding = [...this.held.keys()].filter((p) => this.busy(p)).length;
    throw new ReplyError(
      425,
      `No free data port in ${this.from}-${this.to}: ${holding} transfers hold one, other programs the rest. Retry when a transfer ends (or widen files.passivePorts).`,
    );
  }

  /** The data server now listening on `port`: the port is held until it closes. */
  attach(port: number, server: Server): void {
    this.held.set(port, server);
    server.once('close', () => {
      if (this.held.get(port) === server) this.held.delete(port);
    });
  }

  /** A server that stopped listening frees its port at once, before its last connection closes. */
  private busy(port: number): boolean {
    const holder = this.held.get(port);
    return holder === null || holder?.listening === true;
  }
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
