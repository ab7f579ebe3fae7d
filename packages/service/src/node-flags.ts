/**
 * What keeps an idle lab small (issue #20, "whole lab idle memory"; `npm run bench -- memory`
 * measures it): the V8 flags the supervisor forks each app with, and a collection after start.
 *
 * Most of an idle process's memory is V8's heap, and much of that is what the heap grew to while
 * the process started (reading the config, hashing the resident files, making metainfo, checking
 * the demo passwords) and never gave back: V8 shrinks its heap in a full collection, and an idle
 * process makes none.
 * - collectStartupGarbage: the supervisor and every app run one full collection once ready, and
 *   one more when the start's after-effects have settled. Two collections per process lifetime:
 *   no cost to throughput.
 * - `--max-semi-space-size=1` (MB; V8's default lets each semi-space grow to 16 MB on 64-bit): for
 *   the peer app, little work, whose blocks are Buffers outside V8's heap (side by side, its raw
 *   transfer was no slower with it). Not for files: its 512 MiB STOR and RETR measured slower with
 *   it (noisy, but not worth the few MB), nor for web or mail, whose per-request objects live in
 *   the young generation.
 * - appEnv: one malloc arena per app (below).
 * Not a flag, but as costly: on Node 22+ an ES import of node:http (ours, or a dependency's ES build)
 * loads undici, 1-3 MB per process (nodejs/node#59686); the lab's code takes node:http with
 * process.getBuiltinModule, and smtp-server and nodemailer as CommonJS (test/idle-memory.test.ts).
 * Measured on Node 24 and not kept: `--v8-pool-size=1` (fewer V8 workers, so fewer arenas) saves
 * nothing once there is one arena; `--single-threaded-gc` saved about 2 MB in all, within the noise;
 * `--lite-mode` (no optimizing compiler) saved 1-3 MB per app but made files' 50 parallel RETRs
 * cost half as much CPU again. glibc's tunables (fixed mmap_threshold, trim_threshold, top_pad) were
 * within the noise: what malloc keeps free is inside its heap, where only malloc_trim(0) (tried from
 * gdb: 0.5-1.6 MB per process) gives it back, and Node does not call it. Not reachable from here:
 * Node 24 keeps about 1.9 MB per process that Node 20 does not (1 MB of it abseil's mutex deadlock
 * graph, allocated at start), and its binary's pages count 1.4 MB more per process.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type AppName, releaseConfigSchema } from '@portlab/config';

const LEAN_YOUNG_GENERATION = '--max-semi-space-size=1';

const APP_FLAGS: Partial<Record<AppName, readonly string[]>> = {
  peer: [LEAN_YOUNG_GENERATION],
};

/** How long after start the second collection waits: first connections made, caches filled. */
const SETTLE_MS = 10_000;

/**
 * The environment to fork an app with: the supervisor's own, plus `MALLOC_ARENA_MAX=1` unless the
 * user set it. glibc's malloc gives each thread that allocates an arena of its own (up to 8 per
 * core; a Node process has its main thread, V8's 4 workers and libuv's 4 threads), and each arena
 * keeps its own free memory: on Node 24 an idle app held 3-5 MB in 4-5 thread arenas beside 4 MB in
 * the main one. In one arena what one thread frees another reuses: with it, 6.5-7 MB in all (`npm
 * run bench -- memory --maps`), the lab 1-3 MB less per app. Side by side on Node 24 (noisy, shared
 * machine), the CPU per HTTP request was the same (89 and 68 µs against 85 and 68); FTP's server
 * CPU for a 1 GiB STOR was within the spread of runs without it (0.64-0.90 s against 0.43-0.99),
 * for its RETR a little above (0.40-0.43 s against 0.29-0.39: to measure again on a quiet machine).
 * The threads that share the lock allocate little: the data is in Buffers made on the main thread.
 * glibc reads it at start, so the supervisor, started by the user, keeps its arenas.
 */
export function appEnv(): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '1', ...process.env };
}

/** The Node flags to fork `app` with, after the supervisor's own (`process.execArgv`). */
export function appNodeFlags(app: AppName): string[] {
  return [...(APP_FLAGS[app] ?? [])];
}

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | undefined;

/**
 * A full collection, now: the "last resort" kind V8 makes before it gives up for lack of memory
 * (V8's gc extension, `flavor: 'last-resort'`: several rounds, compaction, and the freed pages
 * given back to the system). On Node 24 a plain gc() left about 3 MB per process that this frees
 * (released modules such as zod, start-up garbage) and shrinks the reserved heap to what is used;
 * Node 20's V8 does not know the flavor: there the plain gc() first is what frees (its gc() with
 * options measured less thorough), and the second is one more full collection.
 */
export function collectGarbage(): void {
  if (!gc) {
    // V8's gc() exists only in contexts made after --expose-gc is set: a fresh one hands it over,
    // and this process's own global stays without it (where `node --expose-gc` would put it).
    v8.setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  gc();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * Once a process is ready: a full collection now, so that the garbage of its start does not stay
 * in its heap for as long as it idles, and one more once the start's after-effects have settled.
 */
export function collectStartupGarbage(): void {
  // The config was read: zod and its schema (3 MB) can go with this collection (packages/config).
  releaseConfigSchema();
  // After this turn of the event loop: the ready report (IPC) and `up`'s table go out first.
  setImmediate(collectGarbage).unref();
  setTimeout(collectGarbage, SETTLE_MS).unref();
}
