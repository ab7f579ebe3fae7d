/**
 * How the supervisor starts each app's Node process: the V8 flags that keep an idle lab small
 * (issue #20, "whole lab idle memory"; `npm run bench -- memory` measures it).
 *
 * Most of an idle app's memory is V8's heap, and much of that is the young generation grown while
 * the app started (reading the config, hashing the resident files, making metainfo) and never
 * given back: V8 shrinks it only in a full collection, and an idle process makes none.
 * - `--expose-gc`: every app runs one full collection once it is ready (AppRuntime.ready), which
 *   gives start-up's garbage back. One collection, at start: no cost to throughput.
 * - `--max-semi-space-size=1` (MB; V8's default lets each semi-space grow to 16 MB on 64-bit): for
 *   the apps with little work, whose heavy lifting is in Buffers (outside V8's heap): FTP
 *   transfers, BitTorrent blocks. Measured without a loss of throughput (see the PR's note);
 *   not for web or mail, whose per-request objects live in the young generation.
 */
import type { AppName } from '@portlab/config';

const LEAN_YOUNG_GENERATION = '--max-semi-space-size=1';

const APP_FLAGS: Partial<Record<AppName, readonly string[]>> = {
  files: [LEAN_YOUNG_GENERATION],
  peer: [LEAN_YOUNG_GENERATION],
};

/** The Node flags to fork `app` with, after the supervisor's own (`process.execArgv`). */
export function appNodeFlags(app: AppName): string[] {
  return ['--expose-gc', ...(APP_FLAGS[app] ?? [])];
}

/**
 * Once an app is ready: one full collection (when the supervisor started it with --expose-gc),
 * so that the garbage of its start does not stay in its heap for as long as it idles.
 */
export function collectStartupGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}
