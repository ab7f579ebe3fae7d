/**
 * Printable sheets (labs/harness/src/sheets.ts, `npm run sheets`): every lab's sheet and teacher
 * notes render in both languages with their headings, steps and code blocks, black on white; and
 * Chromium prints a sheet on A4 with each step on a page of its own.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import { renderSheet, sheetSources } from '@portlab/labs';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

const labs = path.join(REPO_ROOT, 'labs');
const sources = sheetSources(labs);
const out = mkdtempSync(path.join(tmpdir(), 'portlab-sheets-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** What the markdown holds: its title, its steps (### under Étapes/Steps), its fenced blocks. */
function outline(md: string) {
  const lines = md.split('\n');
  let inSteps = false;
  let fenced = false;
  let blocks = 0;
  const steps: string[] = [];
  for (const line of lines) {
    if (/^\s*```/.test(line)) {
      if (!fenced) blocks++;
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    if (/^## /.test(line)) inSteps = /^## (Étapes|Steps)\s*$/.test(line);
    else if (inSteps && /^### /.test(line)) steps.push(line.slice(4));
  }
  return { title: lines[0]!.replace(/^# /, ''), steps, blocks };
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'");

describe('printable sheets', () => {
  it('every lab has a sheet and teacher notes in French and in English', () => {
    const labIds = [...new Set(sources.map((s) => s.lab))];
    expect(labIds.length).toBeGreaterThanOrEqual(5);
    for (const lab of labIds) {
      expect(
        sources
          .filter((s) => s.lab === lab)
          .map((s) => s.output)
          .sort(),
      ).toEqual([`${lab}.en.html`, `${lab}.fr.html`, `${lab}.teacher.en.html`, `${lab}.teacher.fr.html`]);
    }
  });

  it.each(sources.map((s) => [s.output, s] as const))('%s: title, steps, code blocks, language', (_, s) => {
    const md = readFileSync(s.file, 'utf8');
    const html = renderSheet(md, s.lang);
    const want = outline(md);
    expect(html).toContain(`<html lang="${s.lang}">`);
    expect(text(/<h1>(.*?)<\/h1>/s.exec(html)![1]!)).toBe(want.title.replace(/`/g, ''));
    const steps = [...html.matchAll(/<h3 class="step">(.*?)<\/h3>/gs)].map((m) => text(m[1]!));
    expect(steps).toEqual(want.steps.map((t) => t.replace(/`/g, '')));
    if (s.kind === 'sheet') expect(steps.length).toBeGreaterThanOrEqual(5);
    expect(html.match(/<pre><code/g)?.length ?? 0).toBe(want.blocks);
    expect(html).not.toMatch(/<script/i);
  });

  it('a level-3 heading outside "Steps" is no step; inline code in a step title stays code', () => {
    const html = renderSheet('# T\n\n## Questions\n\n### 1. Not a step\n\n## Steps\n\n### 1. `nc`\n', 'en');
    expect(html).toContain('<h3>1. Not a step</h3>');
    expect(html).toContain('<h3 class="step">1. <code>nc</code></h3>');
  });

  it('paper: A4, each step on a new page, no dark background anywhere', () => {
    const html = renderSheet('# T\n', 'fr');
    expect(html).toMatch(/@page \{ size: A4;/);
    expect(html).toMatch(/h3\.step \{ break-before: page; \}/);
    for (const [, hex] of html.matchAll(/background(?:-color)?:\s*#([0-9a-f]{3,6})/gi)) {
      const full = hex!.length === 3 ? [...hex!].map((c) => c + c).join('') : hex!;
      const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16) / 255);
      expect(0.2126 * r! + 0.7152 * g! + 0.0722 * b!).toBeGreaterThan(0.9);
    }
  });

  it('`npm run sheets -- DIR` writes every sheet and an index', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        'node',
        [path.join(REPO_ROOT, 'labs', 'harness', 'dist', 'sheets-cli.js'), out],
        (err, so, se) => resolve({ code: err ? 1 : 0, out: `${so}${se}` }),
      ),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`${sources.length} sheets written to ${out}`);
    expect(readdirSync(out).sort()).toEqual([...sources.map((s) => s.output), 'index.html'].sort());
    const index = readFileSync(path.join(out, 'index.html'), 'utf8');
    for (const s of sources) expect(index).toContain(`href="${s.output}"`);
    const script = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.sheets;
    expect(script).toContain('labs/harness/dist/sheets-cli.js');
  });

  const CHROMIUM = '/usr/bin/chromium';
  it.skipIf(!existsSync(CHROMIUM))(
    'Chromium prints lab 05 in French on A4, a page per step at least',
    async () => {
      const s = sources.find((x) => x.output === '05.fr.html')!;
      const steps = outline(readFileSync(s.file, 'utf8')).steps.length;
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu'],
      });
      try {
        const page = await browser.newPage();
        await page.setContent(renderSheet(readFileSync(s.file, 'utf8'), 'fr'));
        const pdf = await page.pdf({ preferCSSPageSize: true });
        // A4 is 595 × 842 points; every page of the PDF has that MediaBox.
        const boxes = [...pdf.toString('latin1').matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)];
        expect(boxes.length).toBeGreaterThan(steps);
        for (const [, w, h] of boxes)
          expect([Math.round(Number(w)), Math.round(Number(h))]).toEqual([595, 842]);
      } finally {
        await browser.close();
      }
    },
  );
});
