/**
 * A class on another address than 127.0.0.1, as in a classroom (`portlab up --host <LAN address>`),
 * here on other loopback addresses, each one a machine of its own for the lab:
 * - `class create` says where to open the cards at the address the cards themselves give;
 * - `portlab up` at another address than the cards' says in one line that they are stale, and
 *   `portlab class cards` makes them again for that address with the same passwords, while it runs;
 * - `portlab probe` with no HOST knocks on the running lab, not on the config's 127.0.0.1.
 * The running labs' registry is a throw-away XDG_RUNTIME_DIR: invisible to the user's own labs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './apps.js';

let lab: TempLab;
let env: NodeJS.ProcessEnv;
let up: ChildProcess | undefined;
let upOutput = '';
const runtimeDir = mkdtempSync(path.join(tmpdir(), 'portlab-runtime-'));

beforeAll(async () => {
  lab = await tempLab();
  env = { ...lab.env, XDG_RUNTIME_DIR: runtimeDir };
});

afterAll(async () => {
  if (up && up.exitCode === null) {
    const exited = new Promise((resolve) => up!.once('exit', resolve));
    up.kill('SIGINT');
    await exited;
  }
  lab.cleanup();
  rmSync(runtimeDir, { recursive: true, force: true });
});

function portlab(args: string[], more: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ...more } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a class whose lab is not on 127.0.0.1', () => {
  it("class create prints the cards' URL at the lab's address and HTTP port", async () => {
    const http = lab.ports.http;
    const own = await portlab(['class', 'create', '--students', '2', '--lang', 'fr'], {
      PORTLAB_HOST: '127.0.0.2',
    });
    expect(own.code).toBe(0);
    expect(own.stdout).toContain(`http://127.0.0.2:${http}/lab/class/cards (on this machine)`);
    const everywhere = await portlab(['class', 'create', '--students', '2', '--lang', 'fr', '--replace'], {
      PORTLAB_HOST: '0.0.0.0',
      PORTLAB_PUBLIC_ADDRESS: '127.0.0.3',
    });
    expect(everywhere.code).toBe(0);
    // Listening everywhere, handing out 127.0.0.3: the cards give 127.0.0.3, and so does this line.
    expect(everywhere.stdout).toContain(`http://127.0.0.3:${http}/lab/class/cards (on this machine)`);
  });

  it("portlab up --host elsewhere than the cards' address warns that they are stale", async () => {
    up = spawn(process.execPath, [CLI, 'up', '--host', '127.0.0.4'], { env });
    const collect = (chunk: Buffer) => {
      upOutput += chunk;
    };
    up.stdout!.on('data', collect);
    up.stderr!.on('data', collect);
    await waitFor(() => /Live transcripts/.test(upOutput), {
      timeoutMs: 100_000, // a whole lab starting on a busy machine
      what: `portlab up to start; it printed:\n${upOutput}`,
    });
    const http = lab.ports.http;
    // The cards (made last in French for 127.0.0.3) are stale here: one line, in their language.
    expect(upOutput).toMatch(
      new RegExp(
        `attention : les cartes de la classe \\(.*cards\\.html\\) donnent http://127\\.0\\.0\\.3:${http}/, mais ce lab est à http://127\\.0\\.0\\.4:${http}/ ; pour les refaire à cette adresse, lancez PORTLAB_HOST=127\\.0\\.0\\.4 npx portlab class cards .*\\n`,
      ),
    );
  });

  it("class cards makes them again for the running lab's address, same passwords; a card that opens nothing gets a new one", async () => {
    const http = lab.ports.http;
    const file = path.join(lab.dataDir, 'class', 'cards.html');
    const passwords = (html: string) =>
      [...html.matchAll(/<code class="secret">([^<]*)<\/code>/g)].map((m) => m[1] as string);
    const [e01, e02] = passwords(readFileSync(file, 'utf8')) as [string, string];
    // e02's card is out of date: the password printed on it opens nothing.
    writeFileSync(file, readFileSync(file, 'utf8').replace(`>${e02}<`, '>not-the-password<'));
    const cards = await portlab(['class', 'cards'], { PORTLAB_HOST: '127.0.0.4' });
    expect(cards.code).toBe(0);
    expect(cards.stdout).toContain(`for http://127.0.0.4:${http}/`);
    expect(cards.stdout).toMatch(/but for e02: a new one/);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain(`<meta name="portlab-home" content="http://127.0.0.4:${http}/">`);
    expect(html).toContain('<html lang="fr">'); // the class's language, kept
    const [again01, again02] = passwords(html) as [string, string];
    expect(again01).toBe(e01);
    expect(again02).not.toBe('not-the-password');
    // The running lab takes both at once: e01's old password, e02's new one; not e02's old one.
    const signIn = (user: string, password: string) =>
      fetch(`http://127.0.0.4:${http}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, password }),
      }).then((r) => r.status);
    expect(await signIn('e01', e01)).toBe(200);
    await waitFor(async () => (await signIn('e02', again02)) === 200, { what: "e02's new password taken" });
    expect(await signIn('e02', e02)).not.toBe(200);
  });

  it('portlab probe without HOST knocks on the running lab', async () => {
    const http = lab.ports.http;
    // No HOST, no PORTLAB_HOST: the config says 127.0.0.1, the lab listens on 127.0.0.4 only.
    const probe = await portlab(['probe', '--ports', `${http},${lab.ports.smtp}`]);
    expect(probe.code).toBe(0);
    expect(probe.stdout).toMatch(new RegExp(`${http}\\s+open\\s+HTTP`));
    expect(probe.stdout).toMatch(new RegExp(`${lab.ports.smtp}\\s+open\\s+SMTP`));
  });
});
