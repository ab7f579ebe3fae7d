/**
 * Every command a lab sheet, a teacher note or the README quotes exists, with those options:
 * `portlab …` against the real CLI's --help (packages/cli/dist/bin.js), `npm run …` against the
 * root package.json. The unit cases show the check fails on a wrong sample.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { LABS } from '@portlab/labs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CliCommand,
  checkNpm,
  checkPortlab,
  quotedCommands,
  readCli,
  rootScripts,
} from './sheets/quoted-commands.js';

const bin = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const labIds = LABS.map((l) => l.id);

/** README.md, the French walk through a class, and each lab's sheets and teacher notes, both languages. */
function documents(): string[] {
  const labs = path.join(REPO_ROOT, 'labs');
  const files = ['README.md', path.join('labs', 'CLASSE.fr.md')];
  for (const lab of readdirSync(labs)
    .filter((d) => /^\d\d-/.test(d))
    .sort()) {
    for (const f of readdirSync(path.join(labs, lab)).sort()) {
      if (/^(README|TEACHER)\.\w+\.md$/.test(f)) files.push(path.join('labs', lab, f));
    }
  }
  return files;
}

let cli: CliCommand;
beforeAll(async () => {
  cli = await readCli(bin);
}, 300_000);

describe('the CLI as its help describes it', () => {
  it('has the commands and options the sheets rely on', () => {
    expect([...cli.commands.keys()]).toEqual(
      expect.arrayContaining([
        'up',
        'ports',
        'probe',
        'watch',
        'stop',
        'start',
        'user',
        'lab',
        'check',
        'p2p',
      ]),
    );
    expect(cli.commands.get('lab')!.options.get('--size')).toBe(true);
    expect(cli.commands.get('lab')!.options.get('--step')).toBe(false);
    expect([...cli.commands.get('p2p')!.commands.keys()]).toEqual([
      'create',
      'seed',
      'get',
      'swarm',
      'watch',
    ]);
    expect(cli.commands.get('p2p')!.commands.get('create')!.options.get('-o')).toBe(true);
    // Lab 6: peers at their own address, and the watcher.
    expect(cli.commands.get('p2p')!.commands.get('seed')!.options.get('--host')).toBe(true);
    expect(cli.commands.get('p2p')!.commands.get('get')!.options.get('--host')).toBe(true);
    expect(cli.commands.get('p2p')!.commands.get('watch')!.options.get('--for')).toBe(true);
    expect(cli.commands.get('p2p')!.commands.get('watch')!.options.get('--user')).toBe(true);
    // Lab 8: the node's commands, and the wallet bound to an account (what check 08 credits).
    expect([...cli.commands.get('chain')!.commands.keys()]).toEqual(
      expect.arrayContaining(['wallet', 'mine', 'send', 'balance', 'show', 'verify', 'tamper', 'connect']),
    );
    expect(cli.commands.get('chain')!.commands.get('wallet')!.options.get('--user')).toBe(true);
    expect(checkPortlab(cli, ['check', '08', '--user', 'e07'], labIds)).toEqual([]);
  });
});

describe('the check, on samples', () => {
  const sample = [
    '# Lab',
    '',
    'Run `npx portlab lab 05 --sise 20MB` then `npm run sheetz`, and',
    '`npx portlab p2p fetch x.torrent`.',
    '',
    '```sh',
    'npx portlab p2p seed f.torrent --rate 1MB/s &',
    'PORTLAB_HOST=10.0.0.1 npx portlab up --allow-demo-passwords',
    'npx portlab check 01 --answer quiz.txt | less',
    'npm start',
    '```',
    '',
    '```text',
    'portlab alice (FTP)    <- an output, not a command',
    '```',
  ].join('\n');

  it('finds the commands in prose and in shell blocks, not in output blocks', () => {
    expect(quotedCommands(sample).map((q) => [q.line, q.text])).toEqual([
      [3, 'portlab lab 05 --sise 20MB'],
      [3, 'npm run sheetz'],
      [4, 'portlab p2p fetch x.torrent'],
      [7, 'portlab p2p seed f.torrent --rate 1MB/s'],
      [8, 'portlab up --allow-demo-passwords'],
      [9, 'portlab check 01 --answer quiz.txt'],
      [10, 'npm start'],
    ]);
  });

  it('fails on a misspelt option, an unknown subcommand, an unknown npm script', () => {
    const scripts = rootScripts(REPO_ROOT);
    const errors = quotedCommands(sample).flatMap((q) =>
      q.kind === 'portlab' ? checkPortlab(cli, q.words, labIds) : checkNpm(scripts, q.words),
    );
    expect(errors).toEqual([
      '"portlab lab" has no option --sise',
      'package.json has no script "sheetz"',
      '"portlab p2p" has no command "fetch"',
      '"portlab check" has no option --answer',
    ]);
  });

  it('an option value is not taken for an option, `--opt=value` is read as --opt', () => {
    expect(checkPortlab(cli, ['lab', '05', '--rate', '1MB/s', '--size=20MB'])).toEqual([]);
    expect(checkPortlab(cli, ['p2p', 'create', 'f', '-o', '-x.torrent'])).toEqual([]);
  });

  it('a synopsis: options in brackets are checked, a lab that does not exist is caught', () => {
    expect(checkPortlab(cli, ['lab', 'NN', '[--step]', '[--lang', 'fr|en]'], labIds)).toEqual([]);
    expect(checkPortlab(cli, ['lab', '01', '[--steps]'], labIds)).toEqual([
      '"portlab lab" has no option --steps',
    ]);
    expect(checkPortlab(cli, ['check', '99'], labIds)).toEqual(['there is no lab "99"']);
    expect(checkPortlab(cli, ['check', 'clients'], labIds)).toEqual(['there is no lab "clients"']);
  });
});

describe('the sheets, the teacher notes and the README', () => {
  const files = documents();

  it('are all read: every lab, both languages, and the walk through a class', () => {
    const sheets = files.filter((f) => /^labs\/\d\d-/.test(f));
    expect(sheets.filter((f) => f.endsWith('.fr.md')).length).toBeGreaterThanOrEqual(10);
    expect(sheets.filter((f) => f.endsWith('.en.md')).length).toBe(
      sheets.filter((f) => f.endsWith('.fr.md')).length,
    );
    expect(files).toContain(path.join('labs', 'CLASSE.fr.md'));
  });

  it('lab 07: both sheets quote its demo, its check and the neighbour’s server', () => {
    for (const lang of ['fr', 'en']) {
      const file = path.join('labs', '07-chat', `README.${lang}.md`);
      expect(files).toContain(file);
      const quoted = quotedCommands(readFileSync(path.join(REPO_ROOT, file), 'utf8'), file).map(
        (q) => q.text,
      );
      expect(quoted).toEqual(
        expect.arrayContaining([
          `portlab lab 07 --step --lang ${lang}`,
          'portlab check 07',
          'portlab up --host 127.0.0.2',
          'portlab stop chat',
          'portlab start chat',
        ]),
      );
    }
  });

  it('stop a background peer by its job (`kill %1`), never by the process number of its npx', () => {
    // `npx portlab … &` is npm, then sh, then node: `kill $(jobs -p)` kills npm alone and leaves the
    // node process running, orphaned; `kill %N` signals the job's whole process group (bash, zsh).
    const wrong: string[] = [];
    for (const file of files.filter((f) => !/TEACHER\.\w+\.md$/.test(f))) {
      readFileSync(path.join(REPO_ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/kill\s+\$\(jobs\b/.test(line)) wrong.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(wrong).toEqual([]);
  });

  it('quote only commands and options that exist', () => {
    const scripts = rootScripts(REPO_ROOT);
    const errors: string[] = [];
    let portlab = 0;
    for (const file of files) {
      for (const q of quotedCommands(readFileSync(path.join(REPO_ROOT, file), 'utf8'), file)) {
        if (q.kind === 'portlab') portlab++;
        const wrong = q.kind === 'portlab' ? checkPortlab(cli, q.words, labIds) : checkNpm(scripts, q.words);
        for (const e of wrong) errors.push(`${q.file}:${q.line}: \`${q.text}\`: ${e}`);
      }
    }
    expect(errors).toEqual([]);
    expect(portlab).toBeGreaterThan(100); // the sheets are full of them: the parser found them
  });
});
