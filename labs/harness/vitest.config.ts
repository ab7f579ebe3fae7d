import { defineConfig } from 'vitest/config';

// Each file starts a whole lab (`portlab up`): one at a time, on a 2-core machine.
export default defineConfig({ test: { fileParallelism: false, testTimeout: 120_000, hookTimeout: 60_000 } });
