/**
 * A student's own blockchain node for a test: the chain app (apps/chain) of a throw-away lab, in its
 * own process, at the tests' difficulty (8 zero bits: a block in milliseconds), ready once its API
 * answers. Optionally the lab's web app beside it (the dashboard's chain panel reads the node).
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { type TempLab, tempLab, waitFor } from './index.js';

const CHAIN_MAIN = path.join(REPO_ROOT, 'apps', 'chain', 'dist', 'main.js');
const WEB_MAIN = path.join(REPO_ROOT, 'apps', 'web', 'dist', 'main.js');

export interface ChainNodeOptions {
  /**
   * The tracker the node announces to: `false` for none reachable (neighbours are connected by hand;
   * port 9, discard, refuses), or a URL. Default: the lab's own tracker, as the chain app says.
   */
  tracker?: false | string;
  /** Start the lab's web app too. */
  web?: boolean;
  /** More environment for the apps (e.g. LANG). */
  env?: NodeJS.ProcessEnv;
}

export interface ChainNodeLab extends TempLab {
  /** The apps started: the chain app, then the web app if asked for. */
  apps: ChildProcess[];
  /** A call to the node's own API (`portlab chain` calls the same), its JSON answer. */
  api(method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Stops the apps (SIGTERM, waiting for each to exit) and removes the lab. */
  stop(): Promise<void>;
}

/** A chain node in a temp lab, its API answering; `stop()` it after the test. */
export async function startChainNode(options: ChainNodeOptions = {}): Promise<ChainNodeLab> {
  const lab = await tempLab();
  lab.env.PORTLAB_CHAIN_ZERO_BITS = '8';
  if (options.tracker === false) lab.env.PORTLAB_CHAIN_TRACKER = 'http://127.0.0.1:9/announce';
  else if (options.tracker) lab.env.PORTLAB_CHAIN_TRACKER = options.tracker;
  Object.assign(lab.env, options.env);
  const apps = [fork(CHAIN_MAIN, [], { env: lab.env, stdio: 'pipe' })];
  if (options.web) apps.push(fork(WEB_MAIN, [], { env: lab.env, stdio: 'pipe' }));
  const base = `http://127.0.0.1:${lab.ports['chain-api']}`;
  const node: ChainNodeLab = {
    ...lab,
    apps,
    async api(method, urlPath, body) {
      const res = await fetch(`${base}${urlPath}`, {
        method,
        ...(method === 'POST'
          ? { body: JSON.stringify(body ?? {}), headers: { 'content-type': 'application/json' } }
          : {}),
      });
      return (await res.json()) as Record<string, unknown>;
    },
    async stop() {
      for (const app of apps) {
        if (app.exitCode !== null || app.signalCode !== null) continue;
        app.kill('SIGTERM');
        await new Promise((resolve) => app.once('exit', resolve));
      }
      lab.cleanup();
    },
  };
  try {
    await waitFor(
      () =>
        fetch(`${base}/status`).then(
          (r) => r.ok,
          () => false,
        ),
      { what: 'the chain app' },
    );
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}
