import { styleText } from 'node:util';

/** The labs print the same tables as the commands: one function for both. */
export { table } from '@portlab/labs/cli';

/** Colour only for a terminal that wants it (NO_COLOR: https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

type Style = Parameters<typeof styleText>[0];

export function paint(style: Style, text: string, color: boolean): string {
  return color ? styleText(style, text) : text;
}
