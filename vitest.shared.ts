import { defineConfig } from 'vitest/config';

/**
 * What every workspace's vitest.config.ts starts from. Tests talk to real servers over real sockets,
 * spawn processes and wait on fsync, on a machine that may be busy (2 cores shared with a build):
 * every deadline here bounds a hang, it does not guess at a speed. A test waits for an event
 * (a reply, a line of output, waitFor from @portlab/testkit), never for a fixed time.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // expect.poll's own default (1 s) is a guess at speed: a busy machine takes longer.
    expect: { poll: { timeout: 30_000 } },
  },
});
