import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real servers, real sockets: a test waits on the network and on fsync, not on a mock.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
