/**
 * Finding a port nothing listens on, the one way every part of portlab does it: try to bind, and let
 * the port go at once. The answer holds only for now (another process may bind the port next), so
 * a caller that can, binds again and moves on when it finds EADDRINUSE (packages/cli p2p/peers.ts).
 */
import { createServer } from 'node:net';

/** Whether `port` on `host` can be bound right now. */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/**
 * Whether this machine has `host` to bind (Linux answers on all of 127.0.0.0/8; macOS only on
 * 127.0.0.1): the labs give a simulated machine its own loopback address where it can.
 */
export function canBind(host: string): Promise<boolean> {
  return isPortFree(0, host);
}

/** A port the kernel says is free on `host` now: bind port 0, read what it chose, let it go. */
function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface FreePortOptions {
  /** The first port to try, then the next ones (up to 200 of them): a port of the lab's plan. */
  from?: number;
  /** Ports not to return though free (found by an earlier call, or already taken by us). */
  exclude?: ReadonlySet<number>;
}

/**
 * A free port on `host`. With `from`: the first free one from `from` on, so it reads as a port of
 * the lab's plan (the peers' 6881 and up). Without: one the kernel picks (port 0).
 */
export async function freePort(
  host: string,
  { from, exclude = new Set() }: FreePortOptions = {},
): Promise<number> {
  if (from === undefined) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await kernelPort(host);
      if (!exclude.has(port)) return port;
    }
    throw new Error(`the kernel kept handing out excluded ports on ${host}`);
  }
  for (let port = from; port < Math.min(from + 200, 65536); port++) {
    if (!exclude.has(port) && (await isPortFree(port, host))) return port;
  }
  throw new Error(`no free port from ${from} to ${from + 199} on ${host}`);
}
