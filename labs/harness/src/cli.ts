/**
 * `@portlab/labs/cli`: what the `portlab` command needs at start, and nothing more. The supervisor
 * (`portlab up`) is this process and stays up all day, so it must not hold the labs, their client
 * libraries (imapflow, nodemailer, basic-ftp, @portlab/chain) and their texts in its heap (issue #20,
 * idle memory): `registerLabCommands` only declares the commands, and each action imports the
 * runner and the labs when it runs.
 */
// The rate parser alone: the package's index (tracker, peer wire, about 2.4 MB of heap) would stay
// loaded in `portlab up`'s supervisor for the lab's lifetime (issue #20, idle memory).
import { parseRate } from '@portlab/bittorrent/rate';
import type { LabConfig } from '@portlab/config';
import { type Command, InvalidArgumentError } from 'commander';
import { chooseLang } from './i18n.js';
import { SOLO_USER } from './lab.js';
import { Printer } from './output.js';
import { askPassword } from './password.js';

export { chooseLang, type Lang, type Text } from './i18n.js';
export { Printer, table } from './output.js';
export { askPassword } from './password.js';
export { deliverWelcome } from './welcome.js';
export { SOLO_USER };

/** "50MB" -> bytes: sizes are written as rates are, without the "/s". */
function sizeOption(text: string): number {
  try {
    const bytes = parseRate(text);
    if (!Number.isFinite(bytes) || bytes < 16 * 1024) throw new Error('at least 16kB');
    return Math.round(bytes);
  } catch (err) {
    throw new InvalidArgumentError(
      `bad size '${text}': write it like 50MB or 4MB (${(err as Error).message})`,
    );
  }
}

function rateOption(text: string): number {
  try {
    const rate = parseRate(text);
    if (!Number.isFinite(rate)) throw new Error('a lab needs a cap');
    return rate;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    console.error(`portlab: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

export function registerLabCommands(program: Command, config: () => LabConfig): void {
  program
    .command('lab')
    .argument(
      '<lab>',
      'a lab: 01 (ports), 02 (mail), 03 (files), 04 (web), 05 (p2p), 06 (uses), 07 (chat), 08 (chain), or "clients"',
    )
    .description("run a lab's scripted demo with real clients, showing each step's transcript")
    .option('--step', 'wait for Enter between steps (at a terminal)')
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .option('--size <size>', 'lab 05: size of the shared file', sizeOption, 50_000_000)
    .option('--rate <rate>', 'lab 05: upload cap of every machine', rateOption, 2_000_000)
    .option('--peers <n>', 'lab 05: how many peers seed the file', (v) => Number.parseInt(v, 10), 4)
    .addHelpText(
      'after',
      '\nExamples:\n  npx portlab lab 02 --step\n  npx portlab lab 05 --lang fr --size 20MB --rate 1MB/s\n  npx portlab lab clients',
    )
    .action(
      (name: string, opts: { step?: boolean; lang?: string; size: number; rate: number; peers: number }) =>
        run(async () => {
          const out = new Printer(chooseLang(opts.lang));
          if (name === 'clients') {
            const { commandLines, writeClientFiles } = await import('./clients/lab-clients.js');
            for (const file of await writeClientFiles(config()))
              out.say(out.t({ fr: `écrit ${file}`, en: `wrote ${file}` }));
            for (const line of commandLines(config(), 'alice', 'wonderland')) out.say(line);
            return 0;
          }
          const [{ findLab }, { runDemo }] = await Promise.all([
            import('./labs/index.js'),
            import('./runner.js'),
          ]);
          return runDemo(findLab(name), config(), out, { ...opts, step: Boolean(opts.step) });
        }),
    );

  program
    .command('check')
    .argument('<lab>', 'the lab whose exercise to check: 01 … 08')
    .description('check your exercise: what is right, what is still missing (exit code 1 until done)')
    .option('--lang <lang>', 'fr or en (default: from LANG)')
    .option('--user <name>', `whose work: your lab account (default: ${SOLO_USER}, the solo student)`)
    .option(
      '--server <host[:port]>',
      "ask the class server (the teacher's address, the lab's HTTP port): it checks there what your account did; the password is asked, read from stdin's first line, or from PORTLAB_PASSWORD",
    )
    .option(
      '--answers <file>',
      "lab 01, solo: an answers file of this PC (default: ports-quiz.txt in the account's FTP folder)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npx portlab check 03\n  npx portlab check 03 --server 192.168.1.10 --user e07\n  npx portlab check 01 --answers ports-quiz.txt',
    )
    .action((name: string, opts: { lang?: string; answers?: string; user?: string; server?: string }) =>
      run(async () => {
        const out = new Printer(chooseLang(opts.lang));
        const [{ findLab }, { runCheck }, { runRemoteCheck, serverUrl }, { QUIZ_FILE }] = await Promise.all([
          import('./labs/index.js'),
          import('./runner.js'),
          import('./remote-check.js'),
          import('./labs/01-ports.js'),
        ]);
        const lab = findLab(name);
        if (opts.server === undefined) return runCheck(lab, config(), out, opts);
        if (lab.id === '08') {
          // Lab 08's work is on the student's own node, whose API answers on 127.0.0.1 only.
          out.say({
            fr: `✘ le travail du lab 08 est sur votre propre nœud : npx portlab check 08 --user ${opts.user ?? 'VOTRE_COMPTE'} (sans --server)`,
            en: `✘ lab 08's work is on your own node: npx portlab check 08 --user ${opts.user ?? 'YOUR_ACCOUNT'} (no --server)`,
          });
          return 2;
        }
        if (!opts.user) {
          out.say({
            fr: '✘ --server demande --user VOTRE_COMPTE (par exemple --user e07)',
            en: '✘ --server needs --user YOUR_ACCOUNT (for example --user e07)',
          });
          return 2;
        }
        if (opts.answers) {
          out.say({
            fr: `✘ avec --server, le serveur lit vos réponses dans votre dossier FTP : envoyez-les (curl -T ${QUIZ_FILE} ftp://SERVEUR:PORT/ -u ${opts.user})`,
            en: `✘ with --server, the server reads your answers in your FTP folder: upload them (curl -T ${QUIZ_FILE} ftp://SERVER:PORT/ -u ${opts.user})`,
          });
          return 2;
        }
        let server: URL;
        let password: string;
        try {
          server = serverUrl(opts.server, config().portOf('http'));
          password = await askPassword(`password of ${opts.user} at ${server.host}: `);
        } catch (err) {
          out.say(`✘ ${(err as Error).message}`);
          return 2;
        }
        return runRemoteCheck(lab, out, { server, user: opts.user, password });
      }),
    );
}
