/**
 * What a lab is: its steps (a scripted demo a teacher runs in class, each step with real clients)
 * and its checks (what `portlab check NN` verifies of the student's own work).
 */
import type { LabConfig } from '@portlab/config';
import type { Text } from './i18n.js';
import type { LabServices } from './lab-services.js';
import type { Printer } from './output.js';
import type { TranscriptView } from './transcript-view.js';

export interface DemoOptions {
  /** Lab 5: size of the shared file in bytes. */
  size: number;
  /** Lab 5: upload cap of every machine, bytes per second. */
  rate: number;
  /** Lab 5: how many peers seed the file. */
  peers: number;
}

export interface StepContext {
  config: LabConfig;
  out: Printer;
  services: LabServices;
  transcript: TranscriptView;
  options: DemoOptions;
  /** What earlier steps found (a message number, a file path…), by name. */
  state: Map<string, unknown>;
  /** Runs `fn` when the demo ends, even on an error (stop the peers a step started). */
  defer(fn: () => Promise<void> | void): void;
}

export interface Step {
  title: Text;
  /** Said before the step runs: what the student is about to see, and why. */
  intro: Text;
  run(ctx: StepContext): Promise<void>;
}

export interface CheckOptions {
  /** Lab 1: the student's answers file. */
  answers?: string;
  /** Labs 2 and 3: whose work to check. */
  user?: string;
}

export interface CheckItem {
  ok: boolean;
  /** Said when it holds. */
  done: Text;
  /** Said while it does not: what is missing, never the answer. */
  todo: Text;
}

/** One line of `portlab check`: `done` when `ok`, else `todo`. */
export function checkItem(ok: boolean, done: Text, todo: Text): CheckItem {
  return { ok, done, todo };
}

export interface Lab {
  id: string;
  slug: string;
  title: Text;
  steps: Step[];
  check(config: LabConfig, options: CheckOptions): Promise<CheckItem[]>;
}
