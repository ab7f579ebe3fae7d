/**
 * The test kit's port picking (packages/testkit/src/ports.ts).
 * - tempLab asks freePortRange to avoid the ports its config already names (a test's MX port, free
 *   until the lab binds it), so that no service of the lab gets one of them too: the mail app would
 *   refuse that config (exit 2, "port N is also the port of 'smtp'"), as it once did in a full run of
 *   apps/mail/test/relay.test.ts.
 * - A range is held in a register shared by every test process of the machine until it is let go,
 *   or its process is gone: two labs made at once in two workspaces' runs once got overlapping
 *   ranges, and one's mail app found its port taken by the other's (class-board.test.ts in CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BLOCK_PORTS, freePortRange, PORT_REGISTER } from '@portlab/testkit';
import { describe, expect, it } from 'vitest';

/** Every port freePortRange picks from (20000-31999) but `from`…`from + 3`. */
const allBut = (from: number) =>
  Array.from({ length: 12000 }, (_, i) => 20000 + i).filter((p) => p < from || p > from + 3);
const blockFile = (from: number) => path.join(PORT_REGISTER, `block-${(from - 20000) / BLOCK_PORTS}`);

describe('@portlab/testkit ports', () => {
  it('freePortRange never hands out a port it was told to avoid', async () => {
    // Every port it picks from is to be avoided but one window of ten.
    const avoid = Array.from({ length: 12000 }, (_, i) => 20000 + i).filter((p) => p < 25000 || p >= 25010);
    await expect(freePortRange(11, avoid)).rejects.toThrow(/no 11 contiguous free ports/);
  });

  it('never hands out a range held by a live process; takes back one whose process is gone; lets go on release', async () => {
    const mine = await freePortRange(4);
    const file = blockFile(mine.from);
    expect(existsSync(file)).toBe(true);
    // The only block left to pick from is held (by this very process, alive).
    await expect(freePortRange(4, allBut(mine.from))).rejects.toThrow(/no 4 contiguous free ports/);
    // Its holder gone (a process that ran and exited), the block is free again.
    const gone = spawnSync('true').pid;
    writeFileSync(file, `${gone} ${Date.now()}\n`);
    const again = await freePortRange(4, allBut(mine.from));
    expect(again.from).toBe(mine.from);
    again.release();
    expect(existsSync(file)).toBe(false);
  });

  it('gives ranges made at once blocks of their own', async () => {
    const ranges = await Promise.all(Array.from({ length: 20 }, () => freePortRange(BLOCK_PORTS)));
    expect(new Set(ranges.map((r) => r.from)).size).toBe(20);
    for (const r of ranges) r.release();
  });
});
