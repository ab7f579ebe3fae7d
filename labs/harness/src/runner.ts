/**
 * `portlab lab NN`: runs a lab's steps one after the other against the running lab, showing after
 * each step what the servers' transcripts recorded. With --step at a terminal, waits for Enter
 * between steps so the class can talk about what it saw; without a terminal it runs straight through.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { LabConfig } from '@portlab/config';
import type { Text } from './i18n.js';
import type { CheckItem, CheckOptions, DemoOptions, Lab } from './lab.js';
import { LabServices } from './lab-services.js';
import type { Printer } from './output.js';
import { TranscriptView } from './transcript-view.js';
import { deliverWelcome } from './welcome.js';

export async function runDemo(
  lab: Lab,
  config: LabConfig,
  out: Printer,
  options: DemoOptions & { step: boolean },
): Promise<number> {
  const services = new LabServices(config, out);
  const transcript = new TranscriptView(config);
  const deferred: (() => Promise<void> | void)[] = [];
  const defer = (fn: () => Promise<void> | void) => deferred.push(fn);
  const pause =
    options.step && process.stdin.isTTY
      ? createInterface({ input: process.stdin, output: process.stdout })
      : null;
  try {
    out.heading(`portlab lab ${lab.id} — ${out.t(lab.title)}`);
    await services.ensureRunning();
    await deliverWelcome(config);
    await transcript.take(); // start each step with only its own events
    const state = new Map<string, unknown>();
    for (const [i, step] of lab.steps.entries()) {
      out.heading(`${i + 1}/${lab.steps.length}  ${out.t(step.title)}`);
      out.say(step.intro);
      await step.run({ config, out, services, transcript, options, state, defer });
      if (pause && i < lab.steps.length - 1) {
        await pause.question(out.t({ fr: '\n[Entrée] pour continuer… ', en: '\n[Enter] to go on… ' }));
      }
    }
    out.heading(out.t({ fr: 'Fin de la démo', en: 'End of the demo' }));
    out.say({
      fr: `Exercice : voir labs/${lab.id}-${lab.slug}/README.fr.md, puis « npx portlab check ${lab.id} ».`,
      en: `Exercise: see labs/${lab.id}-${lab.slug}/README.en.md, then 'npx portlab check ${lab.id}'.`,
    });
    return 0;
  } finally {
    pause?.close();
    for (const fn of deferred.reverse()) await fn();
    transcript.close();
    await services.close();
  }
}

/** One line of a check as the server sends it (GET /api/check/NN): the sentence said, done or to do. */
export interface CheckLine {
  ok: boolean;
  text: Text;
}

/** A check's items as sentences: `done` when it holds, else `todo`. */
export function checkLines(items: CheckItem[]): CheckLine[] {
  return items.map((i) => ({ ok: i.ok, text: i.ok ? i.done : i.todo }));
}

/** `portlab check NN`: what holds, what is still missing; exit code 1 until everything holds. */
export async function runCheck(
  lab: Lab,
  config: LabConfig,
  out: Printer,
  options: CheckOptions,
): Promise<number> {
  // No lab was ever started with this data dir: on a student's PC, the work is on the class server.
  const note: Text | undefined = existsSync(config.paths.users)
    ? undefined
    : {
        fr: `(aucun lab sur ce PC, ${config.dataDir} : en classe, ajoutez --server ADRESSE_DU_PROFESSEUR --user VOTRE_COMPTE)`,
        en: `(no lab on this PC, ${config.dataDir}: in a class, add --server TEACHER_ADDRESS --user YOUR_ACCOUNT)`,
      };
  let items: CheckItem[];
  try {
    items = await lab.check(config, options);
  } catch (err) {
    out.heading(`portlab check ${lab.id} — ${out.t(lab.title)}`);
    if (note) out.say(note);
    out.say(`✘ ${(err as Error).message}`);
    return 1;
  }
  return printCheck(lab, out, checkLines(items), { note });
}

/** Prints a check's lines (computed here or by the server) and returns the exit code: 0 done, 1 not yet. */
export function printCheck(
  lab: Lab,
  out: Printer,
  lines: CheckLine[],
  { who, note }: { who?: string; note?: Text | undefined } = {},
): number {
  out.heading(`portlab check ${lab.id} — ${out.t(lab.title)}${who ? ` (${who})` : ''}`);
  if (note) out.say(note);
  for (const line of lines) out.say(`${line.ok ? '✔' : '✘'} ${out.t(line.text)}`);
  const missing = lines.filter((i) => !i.ok).length;
  out.say('');
  out.say(
    missing === 0
      ? { fr: 'Tout est juste : exercice terminé.', en: 'All correct: exercise done.' }
      : {
          fr: `${lines.length - missing}/${lines.length} fait ; il en reste ${missing}.`,
          en: `${lines.length - missing}/${lines.length} done; ${missing} still to do.`,
        },
  );
  return missing === 0 ? 0 : 1;
}
