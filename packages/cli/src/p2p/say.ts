/**
 * The language of `portlab p2p`'s lines, as the labs choose it: `--lang fr|en`, else LANG. A French
 * class reads French from the peers it runs; the numbers and addresses stay as they are.
 */
import { chooseLang, type Lang, type Text } from '@portlab/labs/cli';

export type { Lang };

/** `--lang` of a p2p command (commander passes it as a string, or not at all). */
export function langOf(option: string | undefined): Lang {
  return chooseLang(option);
}

/** One text in the chosen language. */
export function say(lang: Lang, text: Text): string {
  return text[lang];
}
