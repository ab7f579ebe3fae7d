/**
 * The labs speak French or English: every sentence a student reads is a `Text` holding both, and
 * the printer picks one. `--lang fr|en`, else the language of LANG (fr_FR.UTF-8 -> fr), else English.
 */
export type Lang = 'fr' | 'en';

export interface Text {
  fr: string;
  en: string;
}

export function chooseLang(option: string | undefined, env: NodeJS.ProcessEnv = process.env): Lang {
  if (option !== undefined) {
    if (option !== 'fr' && option !== 'en') {
      throw new Error(`unknown language '${option}': use --lang fr or --lang en`);
    }
    return option;
  }
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}
