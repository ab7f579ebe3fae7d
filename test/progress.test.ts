// "My progress" on the /lab dashboard (issue #13): a student signed in on the page sees their own
// checks, lab by lab, without installing portlab on their PC. The real web and files apps on free
// ports, a class of two students (e01, e02) made as `portlab class create` makes them, the page in
// headless Chromium, a real FTP client (basic-ftp) uploading the page lab 03 asks for.
//
// The lab says `web.loopbackIsTeacher: false`, the setting of a lab machine students share: the
// test's browser on 127.0.0.1 is then an ordinary browser, as one on the classroom LAN is. The
// teacher's hint is read from a second web server in this process with the default (loopback =
// teacher).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UserStore } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import { Client as FtpClient } from 'basic-ftp';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './apps.js';
import { CHROMIUM, hasChromium, launchChromium } from './browser.js';
import { withLoopbackTeacherWeb } from './session.js';

if (!hasChromium) console.warn(`progress tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const PASSWORD = (name: string) => `${name}-Desk42`;
/** What lab 03's sheet asks for: a page with a title and the heading "Lab 3". */
const PAGE =
  '<!doctype html><html><head><title>My page</title></head><body><h1>Lab 3 of e01</h1></body></html>';

// What the function run in the page uses (this package's TypeScript has no DOM library).
declare const document: { querySelector(s: string): { getAttribute(a: string): string | null } | null };

const outputDir = fileURLToPath(new URL('./test-output/', import.meta.url));
let lab: TempLab;
const apps: RunningApp[] = [];
let base: string;
let browser: Browser;
const problems: string[] = [];

async function upload(user: string, page: string): Promise<void> {
  const ftp = new FtpClient();
  try {
    await ftp.access({ host: '127.0.0.1', port: lab.ports.ftp, user, password: PASSWORD(user) });
    await ftp.ensureDir('/public_html');
    await ftp.uploadFrom(Readable.from([Buffer.from(page)]), 'index.html');
  } finally {
    ftp.close();
  }
}

/** A new browser (its own cookies) on /lab, with the stream live. */
async function openDashboard(locale: string): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${base}/lab`);
  await page.locator('.status[data-state="live"]').waitFor();
  return page;
}

/** Signs in with the form at the top of the page, as a student does; the page loads again. */
async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.locator('form.sign-in input[name="user"]').fill(user);
  await page.locator('form.sign-in input[name="password"]').fill(password);
  await page.locator('form.sign-in button[type="submit"]').click();
}

/** Presses the panel's button and waits for the round of checks it asked for to be shown. */
async function checkAgain(page: Page, label: string): Promise<void> {
  const labs = page.locator('#progress .progress-labs');
  const before = Number(await labs.getAttribute('data-round'));
  await page.getByRole('button', { name: label }).click();
  await page.waitForFunction(
    (n) => Number(document.querySelector('#progress .progress-labs')?.getAttribute('data-round')) > n,
    before,
  );
}

/** Lab `id`'s check in the panel once it is shown: its items' ✔/✘ and texts. */
async function labCheck(
  page: Page,
  id: string,
): Promise<{ section: Locator; marks: string[]; texts: string[] }> {
  const section = page.locator(`#progress .progress-lab[data-lab="${id}"]`);
  await section.locator('.check-items li').first().waitFor();
  const items = section.locator('.check-items li');
  return {
    section,
    marks: await items.locator('.mark').allTextContents(),
    texts: (await items.allTextContents()).map((t) => t.replace(/^\s*[✔✘]\s*/, '').trim()),
  };
}

beforeAll(async () => {
  if (!hasChromium) return;
  lab = await tempLab({ web: { loopbackIsTeacher: false } });
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure(); // alice and bob, the demo accounts: not students
  await users.setMany(
    ['e01', 'e02'].map((name) => ({ name, password: PASSWORD(name), role: 'student' as const })),
  );
  apps.push(...(await Promise.all([startApp(lab, 'web'), startApp(lab, 'files')])));
  base = `http://127.0.0.1:${lab.ports.http}`;
  mkdirSync(outputDir, { recursive: true });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(apps.map((app) => app.stop()));
  lab?.cleanup();
});

describe.skipIf(!hasChromium)('My progress on the /lab dashboard', () => {
  it('lists the labs for anyone (GET /api/labs), and answers a check only to the account itself', async () => {
    const labs = (await (await fetch(`${base}/api/labs`)).json()) as {
      id: string;
      title: Record<string, string>;
    }[];
    expect(labs.map((l) => l.id)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
    for (const l of labs) expect(l.title).toEqual({ fr: expect.any(String), en: expect.any(String) });
    // Not signed in: no check, anyone's.
    expect((await fetch(`${base}/api/check/03`)).status).toBe(401);
    expect((await fetch(`${base}/api/check/03?user=e01`)).status).toBe(401);
  });

  it('tells a browser not signed in to sign in with the account on its card, and keeps saying so after a wrong password', async () => {
    const page = await openDashboard('en-GB');
    await page.locator('.panel-choice button[data-panel="progress"]').click();
    await expect(page.locator('#progress').isVisible()).resolves.toBe(true);
    const hint = page.locator('#progress .progress-hint[data-why="signed-out"]');
    await expect(hint.textContent()).resolves.toMatch(/sign in .*account on your card/i);
    expect(await page.locator('#progress .progress-lab').count()).toBe(0);

    // Another student's password: refused, nothing of e01 shown.
    await signIn(page, 'e01', PASSWORD('e02'));
    await page.locator('form.sign-in .error[role="alert"]').waitFor();
    await expect(page.locator('form.sign-in .error').textContent()).resolves.toMatch(
      /wrong user name or password/,
    );
    await expect(hint.isVisible()).resolves.toBe(true);
    expect(await page.locator('#progress .progress-lab').count()).toBe(0);
    await page.context().close();
  });

  it("shows e01 their lab 03 items ✘, then ✔ once their page is uploaded by FTP; e02's stay ✘", async () => {
    const e01 = await openDashboard('en-GB');
    await signIn(e01, 'e01', PASSWORD('e01'));
    await e01.locator('.sign-in[data-account="e01"]').waitFor();
    await e01.locator('.panel-choice button[data-panel="progress"]').click();
    await expect(e01.locator('#progress-title').textContent()).resolves.toBe('My progress');
    const before = await labCheck(e01, '03');
    expect(before.marks).toEqual(['✘', '✘', '✘', '✘']);
    expect(before.texts[0]).toBe('no index.html page has been uploaded over FTP yet');
    expect(before.texts[1]).toBe('/~e01/ shows no index.html page yet (only the list of files, or an error)');
    await expect(before.section.getAttribute('data-done')).resolves.toBe('0');
    await expect(before.section.getAttribute('data-total')).resolves.toBe('4');
    await expect(before.section.locator('.score').textContent()).resolves.toBe('0/4 done');
    expect(await e01.locator('#progress .progress-lab').count()).toBe(8);
    // Only e01's own: their name, nobody else's.
    await expect(e01.locator('#progress').textContent()).resolves.not.toMatch(/e02/);

    // e02 signed in in another browser, before e01 does anything.
    const e02 = await openDashboard('fr-FR');
    await signIn(e02, 'e02', PASSWORD('e02'));
    await e02.locator('.sign-in[data-account="e02"]').waitFor();
    expect((await labCheck(e02, '03')).marks).toEqual(['✘', '✘', '✘', '✘']);

    await upload('e01', PAGE);
    await checkAgain(e01, 'Check again');
    await e01.locator('#progress .progress-lab[data-lab="03"][data-complete="true"]').waitFor();
    const after = await labCheck(e01, '03');
    expect(after.marks).toEqual(['✔', '✔', '✔', '✔']);
    expect(after.texts).toEqual([
      'an index.html page was uploaded over FTP',
      'the page is online at /~e01/',
      'it has a title',
      'it has the heading asked for',
    ]);
    await expect(after.section.locator('.score').textContent()).resolves.toBe('4/4 done');
    await e01.screenshot({ path: path.join(outputDir, 'progress-e01.png'), fullPage: true });

    // e02, asking again after e01's upload: still nothing done, in French.
    await checkAgain(e02, 'Vérifier à nouveau');
    const other = await labCheck(e02, '03');
    expect(other.marks).toEqual(['✘', '✘', '✘', '✘']);
    expect(other.texts[0]).toBe("aucune page index.html n'a encore été envoyée par FTP");
    await expect(other.section.getAttribute('data-done')).resolves.toBe('0');
    await expect(e02.locator('#progress-title').textContent()).resolves.toBe('Ma progression');
    await expect(e02.locator('#progress').textContent()).resolves.not.toMatch(/e01/);

    // e02 signed in cannot ask for e01's check either: the page only shows what the server answers.
    const forged = await e02.evaluate(async () => (await fetch('/api/check/03?user=e01')).status);
    expect(forged).toBe(403);

    // e02 uploads in turn: the panel updates by itself (their FTP session closed), no button pressed.
    await upload('e02', PAGE.replace('e01', 'e02'));
    await e02.locator('#progress .progress-lab[data-lab="03"][data-complete="true"]').waitFor();
    expect((await labCheck(e02, '03')).marks).toEqual(['✔', '✔', '✔', '✔']);
    await e02.screenshot({ path: path.join(outputDir, 'progress-e02-fr.png'), fullPage: true });
    await e01.context().close();
    await e02.context().close();
    expect(problems).toEqual([]);
  });

  it('points the teacher on the lab machine to the class board instead', async () => {
    await withLoopbackTeacherWeb(lab, async ({ port }) => {
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`http://127.0.0.1:${port}/lab#panel=progress`);
      const hint = page.locator('#progress .progress-hint[data-why="teacher"]');
      await hint.waitFor();
      await expect(hint.locator('a').getAttribute('href')).resolves.toBe('/lab/class');
      expect(await page.locator('#progress .progress-lab').count()).toBe(0);
      await context.close();
    });
  });
});
