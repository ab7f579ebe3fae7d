/**
 * What a lab is: its steps (a scripted demo a teacher runs in class, each step with real clients)
 * and its checks (what `portlab check NN` verifies of the student's own work).
 */
import { type LabConfig, USER_NAME } from '@portlab/config';
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
  /** Lab 1, solo on one PC: an answers file to read instead of the one in the account's FTP folder. */
  answers?: string;
  /**
   * Whose work to check (default: alice, the student of a solo lab). Every item counts only what this
   * account did: its logged-in sessions, its mailbox and folder, its /~user/ pages, its announces.
   * A demo (`portlab lab NN` acts as bob, or as alice without doing the exercise), `portlab probe` or
   * a classmate never ticks it.
   */
  user?: string;
}

/** The account a solo student works as; the demos leave its exercise alone. */
export const SOLO_USER = 'alice';

/** The account `options` names, else the solo one. */
export function checkedUser(options: CheckOptions): string {
  const user = options.user ?? SOLO_USER;
  // The name goes into paths ($DATA/files/<user>/) and patterns: only an account name may.
  if (!USER_NAME.test(user))
    throw new Error(
      `'${user}' is not an account name (a lower-case letter, then letters, digits, '.', '_' or '-')`,
    );
  return user;
}

export interface CheckItem {
  /**
   * The item's name in its lab, the same for every student ("subject", "https"): the texts may name
   * the student (/~e07/) or their work, so a spreadsheet groups a class's rows by this instead
   * (`portlab class export`'s item column).
   */
  id: string;
  ok: boolean;
  /** Said when it holds. */
  done: Text;
  /** Said while it does not: what is missing, never the answer. */
  todo: Text;
}

/** One line of `portlab check`, named `id` in its lab: `done` when `ok`, else `todo`. */
export function checkItem(id: string, ok: boolean, done: Text, todo: Text): CheckItem {
  return { id, ok, done, todo };
}

export interface Lab {
  id: string;
  slug: string;
  title: Text;
  steps: Step[];
  check(config: LabConfig, options: CheckOptions): Promise<CheckItem[]>;
}
