/**
 * Lab 01's quiz without a running lab: the answers file as `portlab check 01` reads it, each
 * question's key and the port it expects from the config, and hints that name the service asked
 * about (a student who answers 143 to the IMAPS question must read that the question is IMAPS).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, REPO_ROOT } from '@portlab/config';
import { findLab, parseAnswers, QUIZ } from '@portlab/labs';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(path.join(tmpdir(), 'portlab-quiz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A lab whose ports are not the default ones, so an answer copied from the sheet is wrong. */
function config() {
  const file = path.join(dir, 'portlab.config.json');
  writeFileSync(file, JSON.stringify({ portOffset: 10000, ports: { ftp: 2121 }, dataDir: dir }));
  return loadConfig({ file, env: {} });
}

async function check(answers: string) {
  const file = path.join(dir, `answers-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, answers);
  return findLab('01').check(config(), { answers: file });
}

const template = readFileSync(path.join(REPO_ROOT, 'labs', '01-ports', 'ports-quiz.txt'), 'utf8');

describe('lab 01 quiz: the answers file', () => {
  it('parses "key = port" and "key: port", ignores comments and blank lines, keys in any case', () => {
    const a = parseAnswers('# a comment\n\nHTTP = 80   # the web\nimaps: 993\n  ftp=21\nsmtp =\n');
    expect([...a]).toEqual([
      ['http', '80'],
      ['imaps', '993'],
      ['ftp', '21'],
      ['smtp', ''],
    ]);
  });

  it('malformed lines are not answers: a sentence, a port without its key', () => {
    const a = parseAnswers('the http port is 80\n= 25\nport 80\n');
    expect(a.size).toBe(0);
  });

  it('the template given to students holds every question key, unanswered, and nothing else', () => {
    const keys = [...parseAnswers(template)];
    expect(keys.map(([k]) => k)).toEqual(QUIZ.map((q) => q.key));
    expect(keys.every(([, v]) => v === '')).toBe(true);
  });
});

describe('lab 01 quiz: questions and expected ports', () => {
  it('standard ports come from the service plan, lab ports from this config', () => {
    const c = config();
    const expected = Object.fromEntries(QUIZ.map((q) => [q.key, q.answer(c)]));
    expect(expected).toEqual({
      http: 80,
      https: 443,
      smtp: 25,
      submission: 587,
      imap: 143,
      imaps: 993,
      pop3: 110,
      ftp: 21,
      'lab-imap': 10143, // 143 + the offset
      'lab-ftp': 2121, // the explicit port wins over the offset
    });
  });

  it('each question starts with the name of the service it is about, in both languages', () => {
    const name: Record<string, string> = {
      http: 'HTTP —',
      https: 'HTTPS — HTTP',
      smtp: 'SMTP —',
      submission: 'SMTP submission —',
      imap: 'IMAP —',
      imaps: 'IMAPS — IMAP',
      pop3: 'POP3 —',
      ftp: 'FTP —',
    };
    for (const [key, service] of Object.entries(name)) {
      const q = QUIZ.find((x) => x.key === key)!;
      expect(q.question.en.startsWith(`the standard port of ${service}`)).toBe(true);
      expect(q.question.fr).toMatch(new RegExp(`^le port standard (de |d’)${service}`));
    }
    const imaps = QUIZ.find((q) => q.key === 'imaps')!;
    expect(imaps.question.en).toContain('implicit TLS');
    expect(imaps.question.fr).toContain('TLS implicite');
    expect(QUIZ.find((q) => q.key === 'lab-imap')!.question.en).toContain('not IMAPS');
  });
});

describe('lab 01 quiz: the check', () => {
  it('IMAP\'s port given to the IMAPS question: the hint names IMAPS, never "the right port"', async () => {
    const items = await check('imaps = 143\n');
    const imaps = items[QUIZ.findIndex((q) => q.key === 'imaps')]!;
    expect(imaps.ok).toBe(false);
    expect(imaps.todo.fr).toBe(
      "imaps : 143 n'est pas le port standard d’IMAPS — IMAP sur TLS (TLS implicite : chiffré dès le premier octet)",
    );
    expect(imaps.todo.en).toBe(
      'imaps: 143 is not the standard port of IMAPS — IMAP over TLS (implicit TLS: encrypted from the first byte)',
    );
  });

  it('the lab port written for a standard one, and "port 80", are wrong; a missing answer says so', async () => {
    const items = await check('smtp = 10025\nhttp = port 80\n');
    const by = (key: string) => items[QUIZ.findIndex((q) => q.key === key)]!;
    expect(by('smtp').ok).toBe(false);
    expect(by('http').ok).toBe(false);
    expect(by('pop3').todo.en).toBe('pop3: no answer yet (the standard port of POP3 — downloading mail?)');
  });

  it('the right answers for this config pass, the default lab ports do not', async () => {
    const right = await check(
      'http=80\nhttps=443\nsmtp=25\nsubmission=587\nimap=143\nimaps=993\npop3=110\nftp=21\nlab-imap=10143\nlab-ftp=2121\n',
    );
    expect(right.every((i) => i.ok)).toBe(true);
    const copied = await check('lab-imap = 8143\nlab-ftp = 8021\n');
    expect(copied.filter((i) => i.ok)).toEqual([]);
  });

  it('in a class, no file yet: an item with a name (the board, the CSV), the address students type', async () => {
    // A lab on every interface: students type its LAN address, never 0.0.0.0.
    const file = path.join(dir, 'class.config.json');
    writeFileSync(
      file,
      JSON.stringify({ host: '0.0.0.0', publicAddress: '192.168.1.20', ports: { ftp: 2121 }, dataDir: dir }),
    );
    const items = await findLab('01').check(loadConfig({ file, env: {} }), { user: 'e07' });
    expect(items).toHaveLength(1);
    expect(items[0]!.ok).toBe(false);
    expect(items[0]!.done).toEqual({ fr: 'ports-quiz.txt trouvé', en: 'ports-quiz.txt found' });
    expect(items[0]!.todo.en).toContain('curl -T ports-quiz.txt ftp://192.168.1.20:2121/ -u e07');
    expect(items[0]!.todo.fr).toContain('ftp://192.168.1.20:2121/');
  });

  it('the French texts address the student as "vous", never "tu"', async () => {
    const items = await check('http = 1\n');
    const missing = await findLab('01').check(config(), { answers: path.join(dir, 'none.txt') });
    const french = [
      ...QUIZ.map((q) => q.question.fr),
      ...items.map((i) => i.todo.fr),
      ...missing.map((i) => i.todo.fr),
      template,
    ];
    for (const text of french) expect(text).not.toMatch(/\b(tu|ton|ta|tes|toi|copie|écris|lance)\b/i);
    expect(missing[0]!.todo.fr).toContain('copiez');
  });
});
