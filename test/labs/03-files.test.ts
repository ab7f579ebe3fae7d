import { Readable } from 'node:stream';
import { freePortRange, type TempLab, tempLab } from '@portlab/testkit';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, startLab } from './helpers.js';

let lab: TempLab;
let passive: { from: number; to: number };
let running: { stop(): Promise<void> };
let before: { code: number; out: string };
let demo: { code: number; out: string };
beforeAll(async () => {
  // Passive data ports of our own, free now: never the lab's 8200-8299, which a running lab may hold.
  passive = await freePortRange(10);
  lab = await tempLab({ files: { passivePorts: passive } });
  await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2' });
  running = await startLab(lab);
  before = await portlab(lab, ['check', '03', '--lang', 'en']);
  demo = await portlab(lab, ['lab', '03', '--lang', 'en']);
});
afterAll(async () => {
  await running.stop();
  lab.cleanup();
});

/** What a student does with FileZilla or curl -T: put index.html into public_html/. */
async function publish(page: string, user = 'alice', password = 'wonderland'): Promise<void> {
  const client = new Client();
  try {
    await client.access({ host: '127.0.0.1', port: lab.ports.ftp, user, password });
    await client.uploadFrom(Readable.from([page]), 'public_html/index.html');
  } finally {
    client.close();
  }
}

const inPassiveRange = (port: number) => port >= passive.from && port <= passive.to;

describe('lab 03: files', () => {
  it('passive mode: the control connection on the FTP port, the data connection on the port PASV names', () => {
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toContain(`$ nc -C 127.0.0.1 ${lab.ports.ftp}`);
    expect(demo.out).toMatch(
      new RegExp(`client 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${lab.ports.ftp} FTP\\n`),
    );
    const pasv = /227 Entering Passive Mode \(127,0,0,1,(\d+),(\d+)\)/.exec(demo.out);
    expect(pasv, demo.out).not.toBeNull();
    const port = Number(pasv![1]) * 256 + Number(pasv![2]);
    expect(inPassiveRange(port)).toBe(true);
    expect(demo.out).toContain(`${pasv![1]}×256+${pasv![2]} = ${port}`);
    expect(demo.out).toContain(`$ nc 127.0.0.1 ${port}`);
    const open =
      /data connection open \(passive, data port (\d+)\): 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:(\d+)\s+\[data\]/.exec(
        demo.out,
      );
    expect(open?.[2]).toBe(String(port));
    expect(Number(open![1])).toBe(port);
    // The data connection and LIST arrive on two sockets: the server may log the accept just
    // before or just after the command (CI saw both), so the open line may sit between them.
    expect(demo.out).toMatch(/C: LIST\n(?:\s+S: data connection open [^\n]*\n)?\s+S: 150 [^\n]*\n\s+S: 226 /);
  });

  it('active mode: the client listens and the server dials it', () => {
    const listens = /\(the client listens on port (\d+)\)/.exec(demo.out);
    expect(listens, demo.out).not.toBeNull();
    const port = listens![1];
    expect(demo.out).toMatch(/C: PORT 127,0,0,1,\d+,\d+\n/);
    expect(demo.out).toMatch(
      new RegExp(
        `data connection open \\(active, the server dialled the client\\): 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${port}`,
      ),
    );
  });

  it("publishes a page over FTP (as bob, leaving alice's exercise alone) and shows it at /~bob/", () => {
    expect(demo.out).toMatch(/C: USER bob\n[\s\S]*C: STOR index\.html\n/);
    expect(demo.out).toContain(`$ curl -i http://127.0.0.1:${lab.ports.http}/~bob/`);
    expect(demo.out).toMatch(/HTTP\/1\.1 200 OK\n[\s\S]*<h1>Bob was here<\/h1>/);
    expect(demo.out).toMatch(
      new RegExp(`-> 127\\.0\\.0\\.1:${lab.ports.http} HTTP\\n\\s+C: GET /~bob/ HTTP/1\\.1`),
    );
  });

  it('check on a fresh lab: exit 1, says what is missing without the answer', () => {
    expect(before.code, before.out).toBe(1);
    expect(before.out).toContain('✘ no index.html page has been uploaded over FTP yet');
    // The listing the server makes when there is no index.html is not the student's page.
    expect(before.out).toContain('✘ /~alice/ shows no index.html page yet');
    expect(before.out).toContain('✘ the page has no title yet');
    expect(before.out).toContain('✘ the page does not have the <h1> heading the sheet asks for yet');
    expect(before.out).not.toMatch(/TP ?3|Lab ?3/i);
  });

  it("check: the demo did not do alice's exercise; its page for bob lacks the asked heading", async () => {
    const alice = await portlab(lab, ['check', '03', '--lang', 'en']);
    expect(alice.code, alice.out).toBe(1);
    expect(alice.out).toContain('✘ no index.html page has been uploaded over FTP yet');
    const bob = await portlab(lab, ['check', '03', '--user', 'bob', '--lang', 'en']);
    expect(bob.code, bob.out).toBe(1);
    expect(bob.out).toContain('✔ an index.html page was uploaded over FTP');
    expect(bob.out).toContain('✔ the page is online at /~bob/');
    expect(bob.out).toContain('✘ the page does not have the <h1> heading the sheet asks for yet');
  });

  it('check: a page uploaded with the asked heading finishes the exercise', async () => {
    await publish('<!doctype html>\n<title>Zoé</title>\n<h1>TP3 Zoé</h1>\n<p>Publiée par FTP.</p>\n');
    const done = await portlab(lab, ['check', '03', '--lang', 'fr']);
    expect(done.out).toContain('✔ elle a le titre principal demandé');
    expect(done.out).toContain('Tout est juste : exercice terminé.');
    expect(done.code).toBe(0);
  });

  it("check in a class: e08's upload is not e07's, e07's own is", async () => {
    const page = '<!doctype html>\n<title>Page</title>\n<h1>TP3 e0x</h1>\n';
    await publish(page, 'e08', 'e08-Pass2');
    // A session that first types e07's name with a wrong password, then logs in as e08 and uploads:
    // the USER e07 line is there, but the session was never e07's (its login events say so).
    const client = new Client();
    try {
      await client.connect('127.0.0.1', lab.ports.ftp);
      await client.send('USER e07');
      await expect(client.send('PASS not-e07s')).rejects.toThrow(/530/);
      await client.login('e08', 'e08-Pass2');
      await client.uploadFrom(Readable.from([page]), 'public_html/index.html');
    } finally {
      client.close();
    }
    const e07 = await portlab(lab, ['check', '03', '--user', 'e07', '--lang', 'en']);
    expect(e07.code, e07.out).toBe(1);
    expect(e07.out).toContain('✘ no index.html page has been uploaded over FTP yet');
    expect(e07.out).toContain('✘ /~e07/ shows no index.html page yet');
    expect(e07.out).toContain('0/4 done');

    await publish(page, 'e07', 'e07-Pass1');
    const done = await portlab(lab, ['check', '03', '--user', 'e07', '--lang', 'en']);
    expect(done.out).toContain('✔ an index.html page was uploaded over FTP');
    expect(done.out).toContain('✔ the page is online at /~e07/');
    expect(done.out).toContain('All correct');
    expect(done.code).toBe(0);
  });
});
