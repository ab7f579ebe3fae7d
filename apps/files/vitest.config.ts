import { defineConfig } from 'vitest/config';

// Real servers and real clients (curl, python3, lftp): a test may take a few seconds on a busy machine.
export default defineConfig({ test: { testTimeout: 30_000, hookTimeout: 30_000 } });
