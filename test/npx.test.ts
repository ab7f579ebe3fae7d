/**
 * `npx portlab …`, as the README and every lab sheet say it, in a fresh clone: before the first
 * build, after it, after a rebuild restored from turbo's cache, and in a clone made again at the same
 * path (a teacher resetting a classroom PC). npx keeps, per folder, a link to the command in its
 * own cache (~/.npm/_npx/<hash of the path>/node_modules/.bin/portlab) and makes the file
 * executable only when it creates that link: a link to a built file broke at the first rebuild.
 *
 * The clone is `git clone` of this repository, so it holds what is committed (with git's file
 * modes), not uncommitted edits: commit before running this test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-npx-'));
const clone = path.join(dir, 'portlab');

/**
 * What a student's shell has: no PATH entry into this repository's node_modules/.bin (vitest run by
 * npm adds one, and its `portlab` would answer instead of the clone's), no npm_* or TURBO_*
 * variables of the npm and turbo that run the tests.
 */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(npm|turbo)_/i.test(name)),
);
env.PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((entry) => !entry.includes(`node_modules${path.sep}.bin`))
  .join(path.delimiter);
// Builds in the clone reuse this repository's turbo cache: the restore from cache is one of the
// scenarios, and it spares the test a full build of every workspace.
env.TURBO_CACHE_DIR = path.join(REPO_ROOT, '.turbo', 'cache');
env.NO_COLOR = '1';

/** Runs a command; the timeout only bounds a hang (npm ci and a build on a loaded machine). */
function sh(command: string, args: string[], cwd: string, runEnv = env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: runEnv, timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function mustSucceed(command: string, args: string[], cwd: string): Promise<void> {
  const result = await sh(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.code}):\n${result.stdout}${result.stderr}`,
    );
  }
}

/** `git clone` and `npm ci`, as on a new machine (npm ci uses the warm npm cache, offline). */
async function freshClone(): Promise<void> {
  await mustSucceed('git', ['clone', '--quiet', REPO_ROOT, clone], dir);
  await mustSucceed('npm', ['ci', '--offline', '--no-audit', '--no-fund'], clone);
}

/**
 * The clone deleted and made again at the same path. Its node_modules is put back rather than
 * installed again: what npm ci would make is the same (links inside node_modules are relative), and
 * the scenario is about the files git checks out and what npx remembers of the path.
 */
async function cloneAgain(): Promise<void> {
  const kept = path.join(dir, 'node_modules');
  renameSync(path.join(clone, 'node_modules'), kept);
  rmSync(clone, { recursive: true });
  await mustSucceed('git', ['clone', '--quiet', REPO_ROOT, clone], dir);
  renameSync(kept, path.join(clone, 'node_modules'));
}

const build = () => mustSucceed('npm', ['run', 'build', '--silent'], clone);

/**
 * `npx portlab --help` with an npx cache of its own, so that it starts as on a new machine and
 * leaves nothing in the real ~/.npm/_npx. `npm ci` keeps the real cache, which it needs offline.
 * The run before the build has a cache of its own too: the old bug left npx a copy without the
 * command there, and that would hide what each later scenario does.
 */
const npxPortlab = (cache = 'npm-cache') =>
  sh('npx', ['portlab', '--help'], clone, { ...env, npm_config_cache: path.join(dir, cache) });

/** `npx portlab --help` printed the help, or the test shows what it printed instead. */
async function expectHelp(): Promise<void> {
  const result = await npxPortlab();
  expect(`${result.stderr}${result.stdout}`).toContain('Usage: portlab');
  expect(result.code).toBe(0);
}

describe('npx portlab in a fresh clone', () => {
  beforeAll(freshClone, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says to build first when nothing is built, instead of "portlab: not found"', async () => {
    const result = await npxPortlab('npm-cache-before-build');
    expect(result.stderr).toContain('portlab is not built yet');
    expect(result.stderr).toContain("'npm run build'");
    expect(result.code).toBe(1);
  }, 60_000);

  it('runs after the build', async () => {
    await build();
    await expectHelp();
  }, 240_000);

  it('still runs after a rebuild restored from turbo’s cache', async () => {
    rmSync(path.join(clone, 'packages', 'cli', 'dist'), { recursive: true });
    await build();
    await expectHelp();
  }, 240_000);

  it('still runs in a new clone at the same path', async () => {
    await cloneAgain();
    await build();
    await expectHelp();
  }, 240_000);

  it('runs as npm run portlab -- …, the other documented way', async () => {
    const result = await sh('npm', ['run', 'portlab', '--silent', '--', '--help'], clone);
    expect(result.stdout).toContain('Usage: portlab');
    expect(result.code).toBe(0);
  }, 60_000);
});
