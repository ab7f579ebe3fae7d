// The one free-port probe (packages/config free-port.ts) that the CLI's peers, the lab demos and the
// tests' temp labs share: real sockets on the loopback.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canBind, freePort, isPortFree } from '../src/free-port.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Something listening on `port` (0: a port the kernel picks), for the probe to find taken. */
function listen(port = 0): Promise<number> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

describe('freePort and isPortFree', () => {
  it('says a port somebody listens on is taken, and the same port free once it is let go', async () => {
    const port = await listen();
    expect(await isPortFree(port, '127.0.0.1')).toBe(false);
    await new Promise((r) => servers.pop()!.close(r));
    expect(await isPortFree(port, '127.0.0.1')).toBe(true);
  });

  it('from a port of the plan: skips the ones taken and the ones excluded, and returns the next free one', async () => {
    const taken = await listen();
    const from = taken;
    const found = await freePort('127.0.0.1', { from });
    expect(found).toBeGreaterThan(taken);
    expect(await isPortFree(found, '127.0.0.1')).toBe(true);
    const after = await freePort('127.0.0.1', { from, exclude: new Set([found]) });
    expect(after).toBeGreaterThan(found);
  });

  it('without a start, a port the kernel picks, never one excluded', async () => {
    const first = await freePort('127.0.0.1');
    expect(await isPortFree(first, '127.0.0.1')).toBe(true);
    const exclude = new Set([first]);
    for (let i = 0; i < 5; i++) {
      const next = await freePort('127.0.0.1', { exclude });
      expect(exclude.has(next)).toBe(false);
      exclude.add(next);
    }
  });

  it('refuses, naming the range and the host, when no port can be bound there (an address not of this machine)', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine, so every bind fails.
    await expect(freePort('192.0.2.1', { from: 40000 })).rejects.toThrow(
      'no free port from 40000 to 40199 on 192.0.2.1',
    );
    expect(await isPortFree(40000, '192.0.2.1')).toBe(false);
    expect(await canBind('192.0.2.1')).toBe(false);
    expect(await canBind('127.0.0.1')).toBe(true);
  });
});
