/**
 * Printable sheets: each lab's sheet (README.<lang>.md) and teacher notes (TEACHER.<lang>.md) as
 * one HTML page with a print stylesheet, for a teacher who hands out paper. Open the page in a
 * browser and print it (or save it as PDF): A4, black on white, each step of "Étapes"/"Steps" on a
 * new page, so that students have room to write what the step asks them to note.
 * `npm run sheets` writes them all (src/sheets-cli.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Marked, type Tokens } from 'marked';
import type { Lang } from './i18n.js';

export interface SheetSource {
  /** "01" */
  lab: string;
  kind: 'sheet' | 'teacher';
  lang: Lang;
  /** The markdown file. */
  file: string;
  /** The HTML file's name: 01.fr.html, 01.teacher.en.html. */
  output: string;
}

/** Every sheet and teacher note of `labsDir` (labs/NN-name/{README,TEACHER}.{fr,en}.md). */
export function sheetSources(labsDir: string): SheetSource[] {
  const sources: SheetSource[] = [];
  for (const dir of readdirSync(labsDir).sort()) {
    const lab = /^(\d\d)-/.exec(dir)?.[1];
    if (!lab) continue;
    for (const name of readdirSync(path.join(labsDir, dir)).sort()) {
      const m = /^(README|TEACHER)\.(fr|en)\.md$/.exec(name);
      if (!m) continue;
      const kind = m[1] === 'README' ? 'sheet' : 'teacher';
      const lang = m[2] as Lang;
      sources.push({
        lab,
        kind,
        lang,
        file: path.join(labsDir, dir, name),
        output: `${lab}${kind === 'teacher' ? '.teacher' : ''}.${lang}.html`,
      });
    }
  }
  return sources;
}

/** The section whose level-3 headings are the steps, in either language. */
const STEPS = /^(Étapes|Steps)$/;

const htmlEscape = (s: string) =>
  s.replace(/[<>&"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot' }[c]};`);

// Paper first: black on white (no dark code blocks, printers and photocopies grey them out), A4,
// long command lines wrapped rather than cut at the margin, headings kept with what follows.
const STYLE = `
  body { font: 11pt/1.45 system-ui, sans-serif; color: #000; background: #fff; max-width: 48em; margin: 2em auto; padding: 0 1em; }
  h1 { font-size: 20pt; margin: 0 0 .5em; }
  h2 { font-size: 15pt; border-bottom: 1px solid #000; margin-top: 1.6em; }
  h3 { font-size: 12.5pt; margin-top: 1.4em; }
  code, pre { font: 10pt/1.35 ui-monospace, "DejaVu Sans Mono", monospace; }
  pre { background: #f3f3f3; border: 1px solid #999; padding: .5em .7em; white-space: pre-wrap; overflow-wrap: anywhere; }
  :not(pre) > code { background: #f3f3f3; padding: 0 .2em; }
  table { border-collapse: collapse; }
  th, td { border: 1px solid #999; padding: .2em .5em; text-align: left; vertical-align: top; }
  a { color: inherit; }
  @page { size: A4; margin: 15mm 15mm 18mm; }
  @media print {
    body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
    h3.step { break-before: page; }
    h2, h3 { break-after: avoid; }
    pre, table, blockquote, li { break-inside: avoid; }
    a[href^="http"]::after { content: " <" attr(href) ">"; font-size: 9pt; }
  }
`;

/** One sheet as a whole HTML page; `title` is its first heading. */
export function renderSheet(markdown: string, lang: Lang): string {
  const marked = new Marked({ gfm: true });
  const tokens = marked.lexer(markdown);
  const steps = new WeakSet<object>();
  let inSteps = false;
  let title = '';
  for (const t of tokens) {
    if (t.type !== 'heading') continue;
    const h = t as Tokens.Heading;
    if (h.depth === 1 && !title) title = h.text;
    if (h.depth <= 2) inSteps = h.depth === 2 && STEPS.test(h.text.trim());
    else if (h.depth === 3 && inSteps) steps.add(h);
  }
  marked.use({
    renderer: {
      heading(h: Tokens.Heading) {
        const cls = steps.has(h) ? ' class="step"' : '';
        return `<h${h.depth}${cls}>${this.parser.parseInline(h.tokens)}</h${h.depth}>\n`;
      },
    },
  });
  const body = marked.parser(tokens);
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(title.replace(/`/g, ''))}</title>
<style>${STYLE}</style>
</head>
<body>
${body}</body>
</html>
`;
}

/** Writes every sheet of `labsDir` into `outDir`, with an index.html; returns the files written. */
export async function writeSheets(labsDir: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const links: string[] = [];
  for (const s of sheetSources(labsDir)) {
    const html = renderSheet(readFileSync(s.file, 'utf8'), s.lang);
    const file = path.join(outDir, s.output);
    await writeFile(file, html);
    written.push(file);
    const title = /<title>(.*)<\/title>/.exec(html)?.[1] ?? s.output;
    const kind = s.kind === 'teacher' ? (s.lang === 'fr' ? 'notes de l’enseignant' : 'teacher notes') : '';
    links.push(`<li><a href="${s.output}">${title}</a>${kind ? ` — ${kind}` : ''} (${s.lang})</li>`);
  }
  const index = path.join(outDir, 'index.html');
  await writeFile(
    index,
    `<!doctype html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>portlab — fiches / sheets</title><style>${STYLE}</style></head>\n<body>\n<h1>portlab — fiches à imprimer / printable sheets</h1>\n<ul>\n${links.join('\n')}\n</ul>\n</body>\n</html>\n`,
  );
  written.push(index);
  return written;
}
