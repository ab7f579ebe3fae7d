import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portlab } from './helpers.js';

let lab: TempLab;
beforeAll(async () => {
  lab = await tempLab();
});
afterAll(() => lab.cleanup());

describe('lab 01: ports', () => {
  it('the demo probes every port and speaks to the wrong one on purpose', async () => {
    const r = await portlab(lab, ['lab', '01', '--lang', 'en']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`client 127.0.0.1:`);
    expect(r.out).toMatch(new RegExp(`-> 127\\.0\\.0\\.1:${lab.ports.smtp} SMTP`));
    expect(r.out).toMatch(/C: GET \/ HTTP\/1\.1\n\s+S: 421 /);
    expect(r.out).toContain('HTTP/1.1 400 Bad Request');
    expect(r.out).toMatch(new RegExp(`imap\\s+IMAP\\s+143\\s+${lab.ports.imap}`));
  });

  it('check: a missing file, an empty quiz, a wrong answer, then all right', async () => {
    const file = path.join(lab.dir, 'quiz.txt');
    const missing = await portlab(lab, ['check', '01', '--answers', file, '--lang', 'en']);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('cannot read');

    writeFileSync(file, 'http = \n');
    const empty = await portlab(lab, ['check', '01', '--answers', file, '--lang', 'en']);
    expect(empty.code).toBe(1);
    expect(empty.out).toContain('http: no answer yet');

    writeFileSync(file, 'http = 8080\nsmtp = 25\n');
    const wrong = await portlab(lab, ['check', '01', '--answers', file, '--lang', 'fr']);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain("http : 8080 n'est pas le port standard de HTTP");
    expect(wrong.out).toContain('smtp : juste');
    expect(wrong.out).not.toMatch(/\b80\b/); // never the answer

    writeFileSync(
      file,
      `http=80\nhttps=443\nsmtp=25\nsubmission=587\nimap=143\nimaps=993\npop3=110\nftp=21\nlab-imap=${lab.ports.imap}\nlab-ftp=${lab.ports.ftp}\n`,
    );
    const done = await portlab(lab, ['check', '01', '--answers', file, '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });
});
