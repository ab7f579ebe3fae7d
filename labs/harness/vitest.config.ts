import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Each file starts a whole lab (`portlab up`): one at a time, on a 2-core machine.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false, testTimeout: 120_000 } }));
