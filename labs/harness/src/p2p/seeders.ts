/**
 * Seeders for the labs' demos: each one `portlab p2p seed TORRENT --json` in its own process, one
 * more machine sharing the file. The demo reads the JSON line the CLI prints once it seeds
 * (packages/cli p2p/seed.ts, SeedingLine), never the sentences it prints for people.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PORTLAB_BIN } from '../lab-services.js';

/** A seeder started: its process, and where other peers reach it. */
export interface Seeder {
  child: ChildProcess;
  port: number;
  /** "address:port". */
  address: string;
  /** The torrent's info hash, hex. */
  infoHash: string;
}

/** How long a seeder may take to start seeding (a busy machine, a large file to check) before it is given up. */
const START_MS = 30_000;

/**
 * The seeder's announcement from its first line of stdout, or why that line is not one: `portlab p2p
 * seed --json` prints `{"event":"seeding", …, "port": N}` and nothing else there.
 */
export function seedingLine(line: string): { port: number; address: string; infoHash: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`portlab p2p seed --json printed a line that is not JSON: ${line}`);
  }
  const { event, port, address, infoHash } = (parsed ?? {}) as Record<string, unknown>;
  if (
    event !== 'seeding' ||
    !Number.isInteger(port) ||
    typeof address !== 'string' ||
    typeof infoHash !== 'string'
  )
    throw new Error(`portlab p2p seed --json printed no seeding line: ${line}`);
  return { port: port as number, address, infoHash };
}

/**
 * `portlab p2p seed TORRENT --rate R [more…] --json`: one more machine sharing the file, in its own
 * process (`more`: lab 6's `--host 127.0.0.N`). Resolves once it seeds; fails with what it said if it
 * exits first or says nothing for 30 s.
 */
export async function startSeeder(torrent: string, rate: number, more: string[] = []): Promise<Seeder> {
  const child = spawn(
    process.execPath,
    [PORTLAB_BIN, 'p2p', 'seed', torrent, '--rate', String(rate), ...more, '--json', '--lang', 'en'],
    { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr!.on('data', (d) => {
    errors += d;
  });
  const lines = createInterface({ input: child.stdout! });
  try {
    const seeding = await new Promise<ReturnType<typeof seedingLine>>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`portlab p2p seed did not start seeding in 30 s: ${errors || 'it said nothing'}`));
      }, START_MS);
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(seedingLine(line));
        } catch (err) {
          child.kill('SIGKILL');
          reject(err);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`portlab p2p seed exited (${code}): ${errors}`));
      });
    });
    return { child, ...seeding };
  } finally {
    lines.close();
  }
}
