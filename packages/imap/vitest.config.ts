import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real servers, real sockets, real clients: a test waits on the network and on fsync.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
