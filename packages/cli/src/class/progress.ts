import path from 'node:path';
import type { LabConfig } from '@portlab/config';
import type { Lang } from '@portlab/labs/cli';

/** One check item of one lab for one student. */
export interface ProgressRow {
  student: string;
  lab: string;
  /** The item's id in its lab, the same for every student: what a spreadsheet groups by. */
  item: string;
  ok: boolean;
  /** What the item says when done, in the class's language: it may name the student (/~e07/). */
  text: string;
}

/**
 * Each student's progress, from the labs' own checks (`portlab check NN`), run here on the server
 * where the data is, for each account in turn. Lab 01's answers are the student's work file in their
 * FTP home (ports-quiz.txt), where the sheet asks them to upload it. An item is named by its id
 * (CheckItem.id) and said by its "done" text, the same whether or not it is done. A check that fails
 * to run is one row saying so (item `check-failed`).
 */
export async function progress(
  config: LabConfig,
  students: readonly string[],
  lang: Lang,
): Promise<ProgressRow[]> {
  // The labs, loaded when a progress export runs: `portlab up` imports this module too (issue #20).
  const { LABS } = await import('@portlab/labs');
  const rows: ProgressRow[] = [];
  for (const student of students) {
    for (const lab of LABS) {
      const answers = path.join(config.paths.files, student, 'ports-quiz.txt');
      try {
        const items = await lab.check(config, { user: student, answers });
        for (const item of items)
          rows.push({ student, lab: lab.id, item: item.id, ok: item.ok, text: item.done[lang] });
      } catch (err) {
        const text = `check failed: ${(err as Error).message}`;
        rows.push({ student, lab: lab.id, item: 'check-failed', ok: false, text });
      }
    }
  }
  return rows;
}

/**
 * A CSV field (RFC 4180 §2): quoted when it holds a comma, a quote, CR or LF, a quote doubled inside.
 * A field a spreadsheet would take for a formula (= + - @ first) is quoted after a ' (OWASP "CSV
 * injection"): an item's text is ours, but a student's name is not.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The CSV text: a header line, then one line per row, each ended by CRLF (RFC 4180 §2.1). */
export function progressCsv(rows: readonly ProgressRow[]): string {
  const lines = [
    // The first four columns as before the text was added: a sheet reading them by position still works.
    ['student', 'lab', 'item', 'ok', 'text'],
    ...rows.map((r) => [r.student, r.lab, r.item, r.ok ? '1' : '0', r.text]),
  ];
  return lines.map((fields) => `${fields.map(csvField).join(',')}\r\n`).join('');
}
