import path from 'node:path';
import type { LabConfig } from '@portlab/config';
// Types only: the labs (and their clients) are loaded when a board first opens (board.ts).
import type { Lab, Text } from '@portlab/labs';

/** One check item of one lab, for one student: ✔ or ✘ and what it says (done, or what is missing). */
export interface ItemProgress {
  ok: boolean;
  text: Text;
}

/** One lab for one student. `error`: the check could not run (its message); then no items. */
export interface LabProgress {
  done: number;
  total: number;
  items: ItemProgress[];
  error?: string;
}

/** A check that takes longer than this is given up: one stuck check must not stall the board. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * Where a student's lab 1 answers are on the server: their FTP folder (ISSUE 13: "the student's
 * answers go to their work folder on the server, for example by FTP").
 */
export function answersFile(config: LabConfig, user: string): string {
  return path.join(config.paths.files, user, 'ports-quiz.txt');
}

/** Runs one lab's check for one student (the same check as `portlab check NN`, here on the server). */
export async function checkLab(config: LabConfig, lab: Lab, user: string): Promise<LabProgress> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the check took over ${CHECK_TIMEOUT_MS / 1000} s`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    const items = await Promise.race([
      lab.check(config, { user, answers: answersFile(config, user) }),
      timeout,
    ]);
    return {
      done: items.filter((i) => i.ok).length,
      total: items.length,
      items: items.map((i) => ({ ok: i.ok, text: i.ok ? i.done : i.todo })),
    };
  } catch (err) {
    return { done: 0, total: 0, items: [], error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Every lab for one student, keyed by lab id ("01" … "06"), in the labs' order. */
export async function checkStudent(
  config: LabConfig,
  user: string,
  labs: readonly Lab[],
): Promise<Record<string, LabProgress>> {
  const results = await Promise.all(labs.map((lab) => checkLab(config, lab, user)));
  return Object.fromEntries(labs.map((lab, i) => [lab.id, results[i]!]));
}
