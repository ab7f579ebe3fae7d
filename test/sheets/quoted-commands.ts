/**
 * The commands a sheet or a teacher note quotes, and what the real CLI accepts: a sheet must not
 * send a class to type an option that does not exist. Used by test/sheets-commands.test.ts.
 *
 * Quoted = a line of a fenced code block (```sh, or no language), or an inline `code` span of the
 * prose, holding `portlab …` (with or without npx) or `npm run …` / `npm start` / `npm test`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export interface Quoted {
  file: string;
  line: number;
  /** The command as quoted, from `portlab`/`npm` to the end of the command (pipes, `&`, `;` cut). */
  text: string;
  words: string[];
  kind: 'portlab' | 'npm';
}

// Fenced blocks in these languages are commands; others (text, json, xml…) show outputs or files.
const SHELL = new Set(['', 'sh', 'bash', 'shell', 'console']);
const STOP = new Set(['|', '||', '&&', '&', ';', '>', '>>', '2>&1', '2>', '<']);

/** Splits a shell command at whitespace and stops at the first operator or comment. */
function words(command: string): string[] {
  const out: string[] = [];
  for (let w of command.trim().split(/\s+/)) {
    if (w === '' || STOP.has(w) || w.startsWith('#')) break;
    const end = /[;&|]$/.test(w) && !/^[<[]/.test(w);
    if (end) w = w.replace(/[;&|]+$/, '');
    // Quotes stay around a word only to keep it whole: `--rate '1MB/s'` is the option --rate.
    out.push(w.replace(/^(['"])(.*)\1$/, '$2'));
    if (end) break;
  }
  return out;
}

/** Every portlab and npm command in one piece of shell text (a line or an inline code span). */
function commandsIn(text: string): { kind: Quoted['kind']; text: string; words: string[] }[] {
  const found: { kind: Quoted['kind']; text: string; words: string[] }[] = [];
  // `portlab` as the command word: at the start or after an operator, behind environment
  // assignments, `time` or `npx`; not a word of an output (`+OK portlab POP3 server ready`).
  for (const m of text.matchAll(
    /(?:^|[;&|(])\s*(?:[A-Z_]+=\S*\s+)*(?:time\s+)?(?:npx\s+)?portlab\s+([^`]*)/g,
  )) {
    const w = words(m[1]!);
    if (w.length > 0) found.push({ kind: 'portlab', text: `portlab ${w.join(' ')}`, words: w });
  }
  for (const m of text.matchAll(
    /(?:^|[;&|(])\s*(?:[A-Z_]+=\S*\s+)*npm\s+(run\s+[\w:-]+|start|test)\b([^`]*)/g,
  )) {
    const w = words(`${m[1]}${m[2]}`);
    // `npm run portlab -- ARGS` is portlab itself.
    if (w[0] === 'run' && w[1] === 'portlab') {
      const args = w.slice(w[2] === '--' ? 3 : 2);
      if (args.length > 0) found.push({ kind: 'portlab', text: `portlab ${args.join(' ')}`, words: args });
    }
    found.push({ kind: 'npm', text: `npm ${w.join(' ')}`, words: w });
  }
  return found;
}

/** The quoted commands of a markdown text. */
export function quotedCommands(markdown: string, file = '(text)'): Quoted[] {
  const out: Quoted[] = [];
  const lines = markdown.split('\n');
  let fence: string | null = null;
  let paragraph: { start: number; text: string } | null = null;
  const flush = () => {
    if (!paragraph) return;
    for (const span of paragraph.text.matchAll(/`([^`]+)`/g)) {
      const before = paragraph.text.slice(0, span.index);
      const line = paragraph.start + (before.match(/\n/g)?.length ?? 0);
      for (const c of commandsIn(span[1]!.replace(/\s+/g, ' '))) out.push({ file, line, ...c });
    }
    paragraph = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const open = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(raw);
    if (fence !== null) {
      if (open && raw.trim().startsWith(fence.slice(0, 3))) fence = null;
      else if (SHELL.has(fence.slice(3))) {
        // A line continued with a backslash is one command.
        let text = raw;
        let j = i;
        while (text.endsWith('\\') && j + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++j]}`;
        for (const c of commandsIn(text.replace(/^\s*\$\s+/, ''))) out.push({ file, line: i + 1, ...c });
        i = j;
      }
      continue;
    }
    if (open) {
      flush();
      fence = open[1]!.slice(0, 3) + (open[2] ?? '');
      continue;
    }
    if (raw.trim() === '') flush();
    else if (paragraph) paragraph.text += `\n${raw}`;
    else paragraph = { start: i + 1, text: raw };
  }
  flush();
  return out;
}

/** One command of the CLI as its --help describes it. */
export interface CliCommand {
  /** `--lang` -> takes a value; `--step` -> does not. Short forms too (`-o`). */
  options: Map<string, boolean>;
  commands: Map<string, CliCommand>;
}

/** The CLI's commands and options, read from `portlab [command…] --help`, recursively. */
const execFileAsync = promisify(execFile);

export async function readCli(bin: string, chain: string[] = []): Promise<CliCommand> {
  // Each level's subcommands are asked at once: some fifty `--help` runs of a Node process, one
  // after another, took minutes on a loaded 2-core machine.
  const { stdout: help } = await execFileAsync(process.execPath, [bin, ...chain, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' },
  });
  const cmd: CliCommand = { options: new Map(), commands: new Map() };
  const subcommands: string[] = [];
  let section = '';
  for (const line of help.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      section = line;
      continue;
    }
    if (section === 'Options:') {
      const m = /^ {2}(?:(-\w), )?(--?[\w-]+)(?: ([<[][^>\]]+[>\]]))?/.exec(line);
      if (m) {
        for (const flag of [m[1], m[2]]) if (flag) cmd.options.set(flag, Boolean(m[3]));
      }
    }
    if (section === 'Commands:') {
      const m = /^ {2}([\w-]+)/.exec(line);
      if (m && m[1] !== 'help') subcommands.push(m[1]!);
    }
  }
  const read = await Promise.all(subcommands.map((name) => readCli(bin, [...chain, name])));
  for (const [i, name] of subcommands.entries()) cmd.commands.set(name, read[i]!);
  return cmd;
}

/**
 * What is wrong with `portlab WORDS` against the CLI: an unknown command or option, or, given
 * the labs' ids, a lab that does not exist (`portlab lab 06`); NN stands for any.
 */
export function checkPortlab(cli: CliCommand, words: string[], labs: string[] = []): string[] {
  let cmd = cli;
  const chain: string[] = [];
  let i = 0;
  // The command chain: as long as the command has subcommands, the next word must be one.
  // `portlab …` in prose stands for any command.
  if (words[0] === '…' || words[0] === '...') return [];
  while (cmd.commands.size > 0 && i < words.length && !words[i]!.startsWith('-')) {
    const next = cmd.commands.get(words[i]!);
    if (!next) {
      return [`"${['portlab', ...chain].join(' ')}" has no command "${words[i]}"`];
    }
    chain.push(words[i]!);
    cmd = next;
    i++;
  }
  const errors: string[] = [];
  const lab = words[i];
  if (labs.length > 0 && (chain[0] === 'lab' || chain[0] === 'check') && chain.length === 1 && lab) {
    const known = [...labs, 'NN', ...(chain[0] === 'lab' ? ['clients'] : [])];
    if (!lab.startsWith('-') && !known.includes(lab)) errors.push(`there is no lab "${lab}"`);
  }
  for (; i < words.length; i++) {
    // A synopsis writes optional parts in brackets: `[--step]`, `[--lang fr|en]`.
    const w = words[i]!.replace(/^\[/, '').replace(/\]$/, '');
    if (!/^--?[a-zA-Z]/.test(w)) continue; // a positional argument, or a placeholder like <name>
    const flag = w.replace(/=.*$/, '');
    if (flag === '-h' || flag === '--help') continue;
    if (!cmd.options.has(flag)) {
      errors.push(`"${['portlab', ...chain].join(' ')}" has no option ${flag}`);
      continue;
    }
    if (cmd.options.get(flag) && !w.includes('=')) i++; // skip its value
  }
  return errors;
}

/** What is wrong with `npm WORDS`: a script the root package.json does not have. */
export function checkNpm(scripts: Record<string, string>, words: string[]): string[] {
  const name = words[0] === 'run' ? words[1]! : words[0]!;
  return name in scripts ? [] : [`package.json has no script "${name}"`];
}

export function rootScripts(root: string): Record<string, string> {
  return JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
}
