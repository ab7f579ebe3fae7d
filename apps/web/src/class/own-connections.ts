import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { endpoint } from '@portlab/transcript';

/** How long the local end of a closed connection is remembered: the logs reach the hub ~100 ms late. */
const REMEMBER_MS = 30_000;
/** Ends remembered at most (a check makes a few connections; this bounds a runaway). */
const MAX_ENDS = 5_000;

/**
 * The connections this process opened itself, by their local end ("127.0.0.1:54321"). Lab 3's check
 * fetches the student's page at /~user/ from the web server, that is from this very process: the
 * board must not take that request, in the http transcript, for a student's action (it would
 * recompute after every recompute, for ever). The server sees our local end as its `peer`.
 *
 * Node publishes every client socket it creates on the `net.client.socket` diagnostics channel
 * (node:diagnostics_channel, "Built-in channels"), fetch's (undici) included.
 */
export class OwnConnections {
  private readonly ends = new Map<string, number>();
  private readonly onSocket = ({ socket }: { socket: Socket }) => {
    socket.once('connect', () => {
      const end = endpoint(socket.localAddress, socket.localPort);
      this.ends.set(end, Number.POSITIVE_INFINITY);
      socket.once('close', () => this.ends.set(end, Date.now() + REMEMBER_MS));
      if (this.ends.size > MAX_ENDS) this.prune();
    });
  };

  constructor() {
    subscribe('net.client.socket', this.onSocket as (message: unknown) => void);
  }

  close(): void {
    unsubscribe('net.client.socket', this.onSocket as (message: unknown) => void);
  }

  /** Whether `peer` ("ip:port", as a transcript names the remote end) is a connection of ours. */
  has(peer: string): boolean {
    const until = this.ends.get(peer);
    return until !== undefined && until > Date.now();
  }

  private prune(): void {
    const now = Date.now();
    for (const [end, until] of this.ends) if (until <= now) this.ends.delete(end);
    while (this.ends.size > MAX_ENDS) this.ends.delete(this.ends.keys().next().value!);
  }
}
