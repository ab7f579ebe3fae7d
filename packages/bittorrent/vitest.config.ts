import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Swarm and interop tests move real bytes between real processes: give them time.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
