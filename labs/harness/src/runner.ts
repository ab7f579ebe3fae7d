/**
 * `portlab lab NN`: runs a lab's steps one after the other against the running lab, showing after
 * each step what the servers' transcripts recorded. With --step at a terminal, waits for Enter
 * between steps so the class can talk about what it saw; without a terminal it runs straight through.
 */
import { createInterface } from 'node:readline/promises';
import type { LabConfig } from '@portlab/config';
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

/** `portlab check NN`: what holds, what is still missing; exit code 1 until everything holds. */
export async function runCheck(
  lab: Lab,
  config: LabConfig,
  out: Printer,
  options: CheckOptions,
): Promise<number> {
  out.heading(`portlab check ${lab.id} — ${out.t(lab.title)}`);
  let items: CheckItem[];
  try {
    items = await lab.check(config, options);
  } catch (err) {
    out.say(`✘ ${(err as Error).message}`);
    return 1;
  }
  for (const item of items) out.say(item.ok ? `✔ ${out.t(item.done)}` : `✘ ${out.t(item.todo)}`);
  const missing = items.filter((i) => !i.ok).length;
  out.say('');
  out.say(
    missing === 0
      ? { fr: 'Tout est juste : exercice terminé.', en: 'All correct: exercise done.' }
      : {
          fr: `${items.length - missing}/${items.length} fait ; il en reste ${missing}.`,
          en: `${items.length - missing}/${items.length} done; ${missing} still to do.`,
        },
  );
  return missing === 0 ? 0 : 1;
}
