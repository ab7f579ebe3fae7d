import { styleText } from 'node:util';

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

/** Colour only for a terminal that wants it (NO_COLOR: https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

type Style = Parameters<typeof styleText>[0];

export function paint(style: Style, text: string, color: boolean): string {
  return color ? styleText(style, text) : text;
}
