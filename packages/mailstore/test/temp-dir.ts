import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A new empty directory under the system's temp dir, `portlab-mailstore-<name>-XXXXXX`. */
export const makeTempDir = (name: string): string =>
  mkdtempSync(path.join(tmpdir(), `portlab-mailstore-${name}-`));

/** Removes a test's directory and all below it. */
export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });
