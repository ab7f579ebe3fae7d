import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// Each file starts real apps, often a whole lab (`portlab up`), and real clients: 120 s bounds a hang
// of a test that spawns processes on a busy 2-core machine. Two files at a time at most.
export default mergeConfig(
  shared,
  defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000, maxWorkers: 2 } }),
);
