/**
 * `portlab class create|cards|reset|export`: the accounts of a class of students, their credential
 * cards (again for another address), wiping their work between two classes, and their progress as CSV (docs/architecture.md, "Data":
 * $DATA/class/). The demo accounts (alice, bob) and any account made by `user add` are never touched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isLoopback, isWildcard, type LabConfig, type NewAccount, UserStore } from '@portlab/config';
import { chooseLang, type Lang } from '@portlab/labs/cli';
import { MailStore } from '@portlab/mailstore';
import {
  type Card,
  cardsFile,
  cardsHtml,
  labUrl,
  readCards,
  serverAddress,
  writeCards,
} from '../class/cards.js';
import { archiveLogs, makeHome, renewHomes, runningOn, wipeHome } from '../class/data.js';
import { easyPassword, teacherPassword } from '../class/passwords.js';
import { progress, progressCsv } from '../class/progress.js';
import { numbered, parseNames, RESERVED, type Student } from '../class/roster.js';

export const TEACHER = 'teacher';

/** $DATA/class/class.json: the class's students and the names on their cards (no secret in it). */
interface ClassFile {
  lang: Lang;
  students: Student[];
}

function classFile(config: LabConfig): string {
  return path.join(config.paths.class, 'class.json');
}

function readClass(config: LabConfig, names: readonly string[]): ClassFile {
  let saved: Partial<ClassFile> = {};
  try {
    saved = JSON.parse(readFileSync(classFile(config), 'utf8')) as ClassFile;
  } catch {
    // Made by an older portlab, or removed: the account names are the labels.
  }
  const labels = new Map((saved.students ?? []).map((s) => [s.name, s.label]));
  return {
    lang: saved.lang === 'fr' ? 'fr' : 'en',
    students: names.map((name) => ({ name, label: labels.get(name) ?? name })),
  };
}

function saveClass(config: LabConfig, data: ClassFile): void {
  writeFileSync(classFile(config), `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
}

/** --lang, or LANG; null (said) when --lang is neither fr nor en. */
function langOf(option: string | undefined): Lang | null {
  try {
    return chooseLang(option);
  } catch (err) {
    console.error(`portlab: ${(err as Error).message}`);
    return null;
  }
}

/**
 * Where the teacher opens the cards: at the lab's address, the one the cards give (labUrl). A
 * browser on this machine is the teacher's when it comes from loopback (viewer.ts): so no sign-in at
 * a loopback address; at a LAN address the browser comes from that address, and signs in first. A
 * lab listening everywhere also answers on 127.0.0.1, which needs no sign-in: said too.
 */
function cardsUrl(config: LabConfig): string {
  const url = labUrl(config, '/lab/class/cards');
  const mine = config.web.loopbackIsTeacher;
  if (mine && isLoopback(serverAddress(config))) return `${url} (on this machine)`;
  const signIn = `${url} (signed in as teacher on /lab first)`;
  if (!mine || !isWildcard(config.host)) return signIn;
  const local = `http://127.0.0.1:${config.portOf('http')}/lab/class/cards`;
  return `${signIn}, or ${local} on this machine`;
}

const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/** "e01 … e30", or the names themselves when there are few. */
function span(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names[0]} … ${names[names.length - 1]}`;
}

/**
 * The students of the class in `store` (reset and export work on them); null, with the reason on
 * stderr, where no class was made.
 */
async function classStudents(store: UserStore): Promise<string[] | null> {
  await store.ensure();
  const students = store.students();
  if (students.length === 0) {
    console.error("portlab: no class here: make one with 'portlab class create --students 30'");
    return null;
  }
  return students;
}

/** The lab must be stopped before students' mailboxes and folders are deleted under its servers. */
async function refuseWhileRunning(config: LabConfig, what: string): Promise<boolean> {
  const running = await runningOn(config);
  if (running.length === 0) return false;
  console.error(
    `portlab: ${running.join(' and ')} runs on ${config.dataDir}: stop it first (Ctrl-C in its terminal), then ${what} again. ` +
      'It deletes mailboxes and folders the servers may have open.',
  );
  return true;
}

export interface CreateOptions {
  students?: number;
  from?: string;
  replace?: boolean;
  lang?: string;
}

/** `portlab class create --students N | --from FILE [--replace]`. */
export async function classCreate(config: LabConfig, opts: CreateOptions): Promise<number> {
  const start = performance.now();
  if ((opts.students === undefined) === (opts.from === undefined)) {
    console.error(
      'portlab: say how many students (--students 30) or where their names are (--from names.csv)',
    );
    return 2;
  }
  const lang = langOf(opts.lang);
  if (lang === null) return 2;
  const store = new UserStore(config.paths.users);
  await store.ensure();
  const before = store.students();
  if (before.length > 0 && !opts.replace) {
    console.error(
      `portlab: a class of ${before.length} students exists already (${span(before)}). ` +
        "Between two classes, 'portlab class reset' wipes their work (--renew-passwords for new passwords); " +
        "'portlab class create … --replace' deletes those accounts and their data and makes new ones.",
    );
    return 2;
  }
  if (opts.replace && before.length > 0 && (await refuseWhileRunning(config, 'replace the class'))) return 2;

  // Names no student may take: every account that is not one of this class's students.
  const others = store
    .list()
    .filter((u) => u.role !== 'student')
    .map((u) => u.name);
  const taken = new Set([...RESERVED, ...others]);
  let students: Student[];
  if (opts.from !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.from, 'utf8');
    } catch (err) {
      console.error(`portlab: cannot read ${opts.from}: ${(err as Error).message}`);
      return 2;
    }
    const parsed = parseNames(text, taken);
    if (parsed.bad.length > 0) {
      for (const bad of parsed.bad)
        console.error(`${opts.from}:${bad.line}: ${bad.reason}: ${JSON.stringify(bad.text)}`);
      console.error(
        `portlab: ${parsed.bad.length} line(s) of ${opts.from} give no account name; nothing was created. ` +
          'Each line holds a name (Zoé Martin), or a first name and a last name (Zoé,Martin).',
      );
      return 2;
    }
    if (parsed.students.length === 0) {
      console.error(`portlab: ${opts.from} holds no name; nothing was created.`);
      return 2;
    }
    for (const line of parsed.renamed) console.log(`note: ${line}`);
    students = parsed.students;
  } else {
    const count = opts.students!;
    if (!Number.isInteger(count) || count < 1 || count > 999) {
      console.error('portlab: --students takes a number from 1 to 999');
      return 2;
    }
    students = numbered(count);
    const clash = students.filter((s) => taken.has(s.name)).map((s) => s.name);
    if (clash.length > 0) {
      console.error(
        `portlab: ${clash.join(', ')} already exist as accounts that are not students; nothing was created. ` +
          "Remove them first ('portlab user remove NAME') or use --from with other names.",
      );
      return 2;
    }
  }

  const cards: Card[] = students.map((s) => ({ ...s, password: easyPassword() }));
  const teacher = teacherPassword();
  const accounts: NewAccount[] = [
    ...cards.map(({ name, password }) => ({ name, password, role: 'student' as const })),
    { name: TEACHER, password: teacher, role: 'teacher' },
  ];
  const names = new Set(students.map((s) => s.name));
  const gone = before.filter((n) => !names.has(n));
  // Hashing (on libuv's threads) and making the homes (disk) at once. A new class starts empty: the
  // old class's homes go, and so does any folder left under a new name by an account removed earlier.
  await Promise.all([
    store.setMany(accounts),
    renewHomes(config, [...names]),
    ...gone.map((name) => wipeHome(config, name)),
    makeHome(config, new MailStore(config.paths.mail), TEACHER),
  ]);
  store.remove(gone);
  const file = writeCards(config, cardsHtml(config, cards, lang));
  saveClass(config, { lang, students });

  console.log(
    `Made ${students.length} student accounts (${span([...names])}) and '${TEACHER}' in ${seconds(start)}` +
      (gone.length ? `; removed the ${gone.length} accounts of the last class and their data.` : '.'),
  );
  console.log(
    `Each has its mail address (${students[0]!.name}@${config.domain}), its FTP home with public_html/ and its mailbox.`,
  );
  console.log(
    `Teacher: ${TEACHER} / ${teacher}   (shown this once: write it down; 'portlab user add ${TEACHER}' changes it)`,
  );
  console.log(`Credential cards: ${file} (readable by you only: it holds the passwords in clear).`);
  console.log(`Print them from a browser: ${cardsUrl(config)}`);
  if (['0.0.0.0', '::'].includes(serverAddress(config))) {
    console.log(
      'warning: the cards give the address 0.0.0.0: set the address students must type (publicAddress).',
    );
  }
  return 0;
}

export interface ResetOptions {
  renewPasswords?: boolean;
  keepLogs?: boolean;
  lang?: string;
}

/** `portlab class reset [--renew-passwords] [--keep-logs]`: between two classes. */
export async function classReset(config: LabConfig, opts: ResetOptions): Promise<number> {
  const start = performance.now();
  const store = new UserStore(config.paths.users);
  const students = await classStudents(store);
  if (students === null) return 2;
  if (await refuseWhileRunning(config, 'reset the class')) return 2;
  await renewHomes(config, students);
  console.log(
    `Wiped the mail and files of ${students.length} students (${span(students)}); their homes are empty again.`,
  );
  if (!opts.keepLogs) {
    const archive = await archiveLogs(config);
    if (archive)
      console.log(`Moved the transcripts (every account's) to ${archive}: the new class starts with none.`);
  }
  if (opts.renewPasswords) {
    const saved = readClass(config, students);
    const lang = opts.lang !== undefined ? langOf(opts.lang) : saved.lang;
    if (lang === null) return 2;
    const cards: Card[] = saved.students.map((s) => ({ ...s, password: easyPassword() }));
    await store.setMany(cards.map(({ name, password }) => ({ name, password, role: 'student' as const })));
    const file = writeCards(config, cardsHtml(config, cards, lang));
    saveClass(config, { lang, students: saved.students });
    console.log(`New passwords for every student; new cards: ${file}`);
  } else {
    console.log(`The accounts and passwords stay: the cards in ${cardsFile(config)} still hold.`);
  }
  console.log(`Done in ${seconds(start)}.`);
  return 0;
}

/**
 * `portlab class cards [--lang fr|en]`: the cards again, for the address and ports of the lab as it is
 * configured now (a class made at home on 127.0.0.1, given at school on 192.168.1.20), with the
 * passwords of the cards already made: nothing is wiped, no password changes, and the lab may run
 * meanwhile. A card whose password no longer opens its account (changed by `user add`), and a student
 * without a card, get a new password: their old card opened nothing anyway. Said.
 */
export async function classCards(config: LabConfig, opts: { lang?: string }): Promise<number> {
  const store = new UserStore(config.paths.users);
  const students = await classStudents(store);
  if (students === null) return 2;
  const saved = readClass(config, students);
  const lang = opts.lang !== undefined ? langOf(opts.lang) : saved.lang;
  if (lang === null) return 2;
  const printed = new Map(readCards(config).map((c) => [c.name, c.password]));
  const cards: Card[] = await Promise.all(
    saved.students.map(async (s) => {
      const password = printed.get(s.name);
      const opens = password !== undefined && (await store.authenticate(s.name, password)) === s.name;
      return { ...s, password: opens ? password : easyPassword() };
    }),
  );
  const renewed = cards.filter((c) => c.password !== printed.get(c.name));
  await store.setMany(renewed.map(({ name, password }) => ({ name, password, role: 'student' as const })));
  const file = writeCards(config, cardsHtml(config, cards, lang));
  saveClass(config, { lang, students: saved.students });
  console.log(
    `New cards for ${cards.length} students (${span(students)}), for ${labUrl(config, '/')}: ${file}`,
  );
  if (renewed.length === 0) console.log('Same passwords as on the old cards; nothing else changed.');
  else
    console.log(
      `Same passwords, but for ${renewed.map((c) => c.name).join(', ')}: a new one, as the old card's no longer opened the account (or there was none).`,
    );
  console.log(`Print them from a browser: ${cardsUrl(config)}`);
  return 0;
}

/** `portlab class export [--out FILE]`: one CSV row per student and check item (progress.ts). */
export async function classExport(config: LabConfig, opts: { out?: string }): Promise<number> {
  const store = new UserStore(config.paths.users);
  const students = await classStudents(store);
  if (students === null) return 2;
  // The items' texts in the language of the class's cards (class create --lang).
  const rows = await progress(config, students, readClass(config, students).lang);
  const csv = progressCsv(rows);
  if (opts.out === undefined) {
    process.stdout.write(csv);
    return 0;
  }
  writeFileSync(opts.out, csv);
  const done = rows.filter((r) => r.ok).length;
  console.log(`Wrote ${opts.out}: ${students.length} students, ${rows.length} check items, ${done} done.`);
  return 0;
}
