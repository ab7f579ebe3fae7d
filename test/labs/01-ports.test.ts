import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, remoteCheck, startLab } from './helpers.js';

let lab: TempLab;
let running: { stop(): Promise<void> };
beforeAll(async () => {
  lab = await tempLab();
  await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2' });
  running = await startLab(lab);
});
afterAll(async () => {
  await running.stop();
  lab.cleanup();
});

function curl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', ...args], (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );
}

const allRight = () =>
  `http=80\nhttps=443\nsmtp=25\nsubmission=587\nimap=143\nimaps=993\npop3=110\nftp=21\nlab-imap=${lab.ports.imap}\nlab-ftp=${lab.ports.ftp}\n`;

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

    writeFileSync(file, allRight());
    const done = await portlab(lab, ['check', '01', '--answers', file, '--lang', 'en']);
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });

  it("check in a class: the quiz uploaded by FTP to e07's folder, checked on the server with --server", async () => {
    const missing = await portlab(lab, ['check', '01', '--user', 'e07', '--lang', 'en']);
    expect(missing.code, missing.out).toBe(1);
    expect(missing.out).toContain("no ports-quiz.txt in e07's FTP folder yet");
    // Not "fill in labs/01-ports/ports-quiz.txt": the sheet fills a copy in the work folder.
    expect(missing.out).toContain(
      'copy labs/01-ports/ports-quiz.txt into your work folder, fill it in and upload it',
    );
    expect(missing.out).toContain(`curl -T ports-quiz.txt ftp://127.0.0.1:${lab.ports.ftp}/ -u e07`);

    // What the sheet says: fill in the quiz on your PC, then curl -T it to your FTP folder.
    const file = path.join(lab.dir, 'ports-quiz.txt');
    writeFileSync(file, allRight());
    await curl(['-T', file, `ftp://127.0.0.1:${lab.ports.ftp}/`, '-u', 'e07:e07-Pass1']);

    const done = await remoteCheck(lab, '01', 'e07', 'e07-Pass1');
    expect(done.out).toContain(
      `portlab check 01 — Ports: one server, several services (e07@127.0.0.1:${lab.ports.http})`,
    );
    expect(done.out).toContain('All correct');
    expect(done.code, done.out).toBe(0);

    // Another student's answers are theirs: e08 uploaded nothing, so e08 has nothing right.
    const other = await portlab(lab, ['check', '01', '--user', 'e08', '--lang', 'en']);
    expect(other.code, other.out).toBe(1);
    expect(other.out).toContain("no ports-quiz.txt in e08's FTP folder yet");
  });
});
