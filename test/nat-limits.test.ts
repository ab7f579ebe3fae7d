// A class behind one NAT address: every student PC reaches the lab from one address, so the limits
// counted per address must be raised in the config (README, "A class behind one NAT address"). The
// real peer and chain apps, limits raised, keep 30 connections from one address open (30 students'
// downloads from the resident peer, their nodes dialling the teacher's); the defaults (16 and 8) close
// the rest at once, as a lab with its defaults shows.
import type { Socket } from 'node:net';
import { type RawConnection, rawConnection, type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';

/** The class's one address, as the lab sees it. */
const NAT = '127.0.0.5';
const STUDENTS = 30;

const labs: TempLab[] = [];
const apps: RunningApp[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(apps.map((a) => a.stop()));
  for (const lab of labs) lab.cleanup();
});

/** Opens `count` connections from NAT to `port`; resolves, a moment later, with how many were closed. */
async function closedOf(port: number, count: number): Promise<number> {
  const mine: RawConnection[] = [];
  for (let i = 0; i < count; i++) {
    const connection = await rawConnection(port, { localAddress: NAT });
    mine.push(connection);
    sockets.push(connection.socket);
  }
  // A connection over the limit is closed as soon as it is accepted; these say nothing yet, and the
  // peer waits 10 s for a handshake, the chain node 60 s for its version.
  await new Promise((r) => setTimeout(r, 1500));
  return mine.filter((c) => c.closed()).length;
}

async function labWith(config: Parameters<typeof tempLab>[0]): Promise<TempLab> {
  const lab = await tempLab(config);
  labs.push(lab);
  return lab;
}

describe('a class behind one NAT address', () => {
  it(`with p2p.maxConnectionsPerAddress and chain.maxConnectionsPerAddress raised, ${STUDENTS} connections from one address stay open`, async () => {
    const lab = await labWith({
      p2p: { maxConnectionsPerAddress: 40 },
      chain: { maxConnectionsPerAddress: 40 },
    });
    apps.push(await startApp(lab, 'peer'), await startApp(lab, 'chain'));
    expect(await closedOf(lab.ports.peer, STUDENTS)).toBe(0);
    expect(await closedOf(lab.ports.chain, STUDENTS)).toBe(0);
  });

  it('with the defaults, the peer keeps 16 and the chain node 8 from one address, and closes the rest', async () => {
    const lab = await labWith({});
    apps.push(await startApp(lab, 'peer'), await startApp(lab, 'chain'));
    expect(await closedOf(lab.ports.peer, STUDENTS)).toBe(STUDENTS - 16);
    expect(await closedOf(lab.ports.chain, STUDENTS)).toBe(STUDENTS - 8);
  });
});
