/**
 * Starts the real Thunderbird (Debian's package) headless on a fresh profile, with Marionette on a
 * free port, and runs sheet-steps.js inside it. `quit()` stops it and removes the profile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canConnect, freePorts, waitFor } from '@portlab/testkit';
import { Marionette } from './marionette.js';
import { makeProfile } from './profile.js';

export const THUNDERBIRD = '/usr/bin/thunderbird';

const steps = readFileSync(fileURLToPath(new URL('./sheet-steps.js', import.meta.url)), 'utf8');

export interface Thunderbird {
  /** Runs `steps[name](...args)` inside Thunderbird and returns what it resolves to. */
  step<T>(name: string, ...args: unknown[]): Promise<T>;
  quit(): Promise<void>;
}

export async function startThunderbird(lab: { httpPort: number; httpsPort: number }): Promise<Thunderbird> {
  const [marionettePort] = await freePorts(1);
  const { dir, profile, home } = makeProfile({ marionettePort: marionettePort!, ...lab });
  // Its own home, so that nothing it writes outside --profile outlives the test.
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of ['XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME']) delete env[name];
  // Its own process group, so that quit() can end Thunderbird's content processes with it.
  const child = spawn(
    THUNDERBIRD,
    [
      '--headless',
      '--no-remote',
      '--profile',
      profile,
      '--marionette',
      // Chrome-context scripts (the account, the certificate, sending) need this since Gecko 138.
      '--remote-allow-system-access',
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  );
  // The end of what Thunderbird prints (its JavaScript errors among it), for a failure message;
  // headless GTK complains about icon themes at length, which says nothing.
  let output = '';
  const keep = (chunk: Buffer) => {
    const said = String(chunk)
      .split('\n')
      .filter((line) => line.trim() && !/Gtk-CRITICAL|gtk_icon_theme|glib warning/.test(line));
    output = [output, ...said].join('\n').slice(-4_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let marionette: Marionette;
  try {
    await waitFor(() => child.exitCode === null && canConnect(marionettePort!), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `Thunderbird's Marionette on port ${marionettePort}`,
    });
    marionette = await Marionette.open(marionettePort!);
    await marionette.command('Marionette:SetContext', { value: 'chrome' });
    await marionette.command('WebDriver:SetTimeouts', { script: 60_000 });
  } catch (error) {
    await stop(child, exited, 0);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Thunderbird did not start: ${(error as Error).message}\n${output}`);
  }

  return {
    async step<T>(name: string, ...args: unknown[]) {
      // An async script gets its arguments, then a callback for its result, as `arguments`.
      const script = `const done = arguments[arguments.length - 1];
${steps}
const args = Array.from(arguments).slice(0, -1);
Promise.resolve().then(() => steps[${JSON.stringify(name)}](...args)).then(
  (value) => done(JSON.stringify({ value })),
  (error) => done(JSON.stringify({ error: String(error) + '\\n' + (error?.stack ?? '') })),
);`;
      // The result crosses as a JSON string: Marionette's own serializer would turn objects it does not
      // know (XPCOM ones) into null without a word.
      const reply = (await marionette.command('WebDriver:ExecuteAsyncScript', { script, args })) as {
        value: string;
      };
      const { value, error } = JSON.parse(reply.value) as { value?: T; error?: string };
      if (error !== undefined)
        throw new Error(`Thunderbird step ${name}: ${error}\n--- Thunderbird's last output ---\n${output}`);
      return value as T;
    },
    async quit() {
      await marionette.command('Marionette:Quit', { flags: ['eForceQuit'] }).catch(() => undefined);
      marionette.close();
      await stop(child, exited, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits up to `graceMs` for Thunderbird to exit by itself, then kills what is left of its process
 * group (content processes included): nothing outlives the test.
 */
async function stop(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  const timer = setTimeout(kill, graceMs);
  await exited;
  clearTimeout(timer);
  kill();
}
