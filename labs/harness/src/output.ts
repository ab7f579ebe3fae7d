import { styleText } from 'node:util';
import type { Lang, Text } from './i18n.js';

type Style = Parameters<typeof styleText>[0];

/**
 * Where a lab writes: one language, colour only on a terminal that wants it (NO_COLOR), and a
 * `lines` copy of everything printed so a test can read what the student saw.
 */
export class Printer {
  readonly lines: string[] = [];
  private readonly color: boolean;

  constructor(
    readonly lang: Lang,
    private readonly write: (line: string) => void = (line) => console.log(line),
    stream: NodeJS.WriteStream = process.stdout,
  ) {
    this.color = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  }

  /** The sentence in this printer's language. */
  t(text: Text): string {
    return text[this.lang];
  }

  say(text: Text | string, style?: Style): void {
    const line = typeof text === 'string' ? text : this.t(text);
    this.print(style && this.color ? styleText(style, line) : line, line);
  }

  heading(text: string): void {
    this.say('');
    this.say(text, 'bold');
    this.say('─'.repeat(Math.min(text.length, 100)), 'dim');
  }

  /** A command as the student would type it. */
  command(text: string): void {
    this.say(`$ ${text}`, 'cyan');
  }

  table(headers: string[], rows: (string | number)[][]): void {
    for (const line of table(headers, rows).split('\n')) this.say(line);
  }

  private print(shown: string, plain: string): void {
    for (const line of plain.split('\n')) this.lines.push(line);
    this.write(shown);
  }
}

/** A plain-text table with aligned columns, as `ss -ltn` prints one. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
