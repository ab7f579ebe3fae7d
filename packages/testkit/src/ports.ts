import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, isPortFree } from '@portlab/config';

/**
 * Ports nothing listens on right now, each one the kernel picked (port 0), all different: the one
 * free-port probe of @portlab/config, asked `count` times.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort('127.0.0.1', { exclude: ports }));
  return [...ports];
}

/**
 * Port blocks below Linux's ephemeral ports (32768+), where neither an outgoing connection nor a
 * server bound to port 0 takes a port behind our back: 20000-31999, in blocks of BLOCK_PORTS.
 */
const FIRST_PORT = 20000;
export const BLOCK_PORTS = 32;
const BLOCKS = 12000 / BLOCK_PORTS;

/**
 * Who holds which block, for every test process of this machine: a file per block, created with
 * O_EXCL, naming its process. A port free when a lab is made is not bound until its app starts,
 * seconds later, and a lab's test may never start some of its apps: another test's lab, in another
 * vitest worker or another workspace's run, once picked an overlapping range, and its mail app found
 * 127.0.0.1:25949 taken (CI, class-board.test.ts). Checking that ports are free cannot see a port
 * promised but not yet bound; this register can.
 */
export const REGISTER = path.join(tmpdir(), 'portlab-test-ports');
/** A block older than this is taken back even if its process lives (a run never lasts this long). */
const STALE_MS = 30 * 60_000;
/** Blocks this process holds (their files), let go when it exits. */
const held = new Set<string>();
let exitHook = false;

/** A contiguous range of free ports, and the block it lies in, held until `release()`. */
export interface PortRange {
  from: number;
  to: number;
  /** Lets the block go (a temp lab's cleanup); else it goes when this process exits. */
  release(): void;
}

/**
 * A contiguous range of `size` free ports (a temp lab's services and FTP's passive data ports), at
 * the start of a block no other test process holds. `avoid`: ports a caller holds for something not
 * bound yet (a test's own MX port, named in a lab's config): free now, taken later, so never handed
 * out (seen in CI: a lab whose submission port was its own MX port, exit 2).
 */
export async function freePortRange(size: number, avoid: Iterable<number> = []): Promise<PortRange> {
  if (size < 1 || size > BLOCK_PORTS)
    throw new Error(`a port range holds 1 to ${BLOCK_PORTS} ports, not ${size}`);
  const taken = new Set(avoid);
  // Every block once, in a random order: two processes starting together seldom try the same one.
  const order = Array.from({ length: BLOCKS }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  for (const block of order) {
    const from = FIRST_PORT + block * BLOCK_PORTS;
    const ports = Array.from({ length: size }, (_, i) => from + i);
    if (ports.some((port) => taken.has(port))) continue;
    const file = hold(block);
    if (!file) continue;
    if ((await Promise.all(ports.map((port) => isPortFree(port, '127.0.0.1')))).every(Boolean)) {
      return { from, to: from + size - 1, release: () => letGo(file) };
    }
    letGo(file); // Bound by something outside the register (a running lab, another program).
  }
  throw new Error(
    `no ${size} contiguous free ports found between ${FIRST_PORT} and ${FIRST_PORT + 12000 - 1}`,
  );
}

/** Takes `block` for this process if no live process holds it; returns its file, or null. */
function hold(block: number): string | null {
  mkdirSync(REGISTER, { recursive: true });
  const file = path.join(REGISTER, `block-${block}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid} ${Date.now()}\n`, { flag: 'wx' });
      held.add(file);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const f of held) letGo(f);
        });
      }
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !stale(file)) return null;
      letGo(file); // Its process is gone: the block is free again.
    }
  }
  return null;
}

/** True if the process named in `file` is gone, or the file is older than STALE_MS. */
function stale(file: string): boolean {
  let pid: number;
  let since: number;
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!text) return false; // Just made, not written yet.
    [pid, since] = text.split(' ').map(Number) as [number, number];
  } catch {
    return false; // Let go meanwhile: not ours to take this time.
  }
  if (!(pid > 0) || Date.now() - since > STALE_MS) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function letGo(file: string): void {
  held.delete(file);
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
