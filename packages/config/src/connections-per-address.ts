import type { Socket } from 'node:net';

/**
 * A server's open connections, counted by the address they come from: one machine must not take
 * every connection a server accepts (a student's PC holding all of the resident peer's, the
 * tracker's, or the IMAP server's, while the class waits). Used by every service of the app runtime
 * (packages/service, config `maxConnectionsPerAddress`) and by the BitTorrent peers and tracker.
 */
export class ConnectionsPerAddress {
  private readonly open = new Map<string, number>();

  /** @param counted whether connections from this address count (default: every address). */
  constructor(
    readonly max: number,
    private readonly counted: (address: string) => boolean = () => true,
  ) {}

  /** Counts `socket` until it closes; returns why it is refused when it is one too many. */
  admit(socket: Socket): string | undefined {
    const from = socket.remoteAddress ?? '';
    const open = (this.open.get(from) ?? 0) + 1;
    this.open.set(from, open);
    socket.once('close', () => {
      const left = this.open.get(from)! - 1;
      if (left === 0) this.open.delete(from);
      else this.open.set(from, left);
    });
    if (open > this.max && this.counted(from)) return `too many connections from ${from} (${this.max})`;
    return undefined;
  }
}
