// The /lab page in headless Chromium, signing in and out: a masked password and a masked line of a
// logged-in session, then the student's own in clear, then masked again; the lab machine's own browser as the teacher. The web app alone,
// in-process, on a free port; the transcript written with the transcript package, as servers do.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LabConfig, loadConfig, UserStore } from '@portlab/config';
import { type TempLab, tempLab } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebServer, EventHub } from '../src/server.js';

const CHROMIUM = '/usr/bin/chromium';
const outputDir = fileURLToPath(new URL('../test-output/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`sign-in page tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

let lab: TempLab;
let browser: Browser;
const servers: { app: FastifyInstance; hub: EventHub }[] = [];

/** The web app on a free port of 127.0.0.1, with `loopbackIsTeacher` as given. */
async function webApp(loopbackIsTeacher: boolean): Promise<string> {
  const config: LabConfig = { ...loadConfig({ file: lab.configFile, env: {} }), web: { loopbackIsTeacher } };
  const hub = new EventHub(config.paths.log);
  const app = await buildWebServer({ config, hub });
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push({ app, hub });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  lab = await tempLab();
  const users = new UserStore(path.join(lab.dataDir, 'users.json'));
  await users.ensure();
  await users.set('zoe', 'zoe-Secret1');
  // Zoe's FTP login, as the files app writes it.
  const transcript = new Transcript('ftp', 8021, { logDir: path.join(lab.dataDir, 'log') });
  const session = transcript.accepted({
    remoteAddress: '10.0.0.5',
    remotePort: 40000,
    localAddress: '10.0.0.1',
    localPort: 8021,
  });
  session.client('USER zoe');
  session.server('331 Please specify the password.');
  session.client('PASS zoe-Secret1', ['credentials']);
  session.login('zoe', true);
  session.server('230 Login successful.');
  // What her session says once logged in: hers.
  session.client('RETR zoe-diary.txt');
  session.server('150 Opening BINARY mode data connection for zoe-diary.txt');
  transcript.flush();
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  for (const { app, hub } of servers) {
    await app.close();
    hub.close();
  }
  lab?.cleanup();
});

describe.skipIf(!hasChromium)('signing in on /lab', { timeout: 30_000 }, () => {
  it("masks zoe's password until zoe signs in, and again after she signs out", async () => {
    const base = await webApp(false);
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${base}/lab`);
    const pass = page.locator('.rows .row.credentials');
    await expect.poll(() => pass.textContent()).toContain('PASS ••••••');
    expect(await pass.getAttribute('class')).toContain('masked');
    await page.screenshot({ path: path.join(outputDir, 'sign-in-masked.png') });
    await expect.poll(() => page.locator('.rows').textContent()).toContain('zoe logged in');
    // Her session after the login: the command word and reply code only, in italics, saying why.
    const retr = page.locator('.rows .row', { hasText: 'RETR' });
    await expect.poll(() => retr.textContent()).toContain('RETR ••••••');
    expect(await retr.getAttribute('class')).toContain('masked');
    expect(await retr.locator('.text').getAttribute('title')).toMatch(/another account's session/);
    expect(await page.locator('.rows').textContent()).not.toContain('diary');

    const form = page.locator('form.sign-in');
    await form.getByLabel('User').fill('zoe');
    await form.getByLabel('Password').fill('wrong-one');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong user name or password/);

    await form.getByLabel('Password').fill('zoe-Secret1');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.sign-in').textContent()).toContain('Signed in as zoe');
    await expect.poll(() => pass.textContent()).toContain('PASS zoe-Secret1');
    await expect.poll(() => retr.textContent()).toContain('RETR zoe-diary.txt');
    await page.screenshot({ path: path.join(outputDir, 'sign-in-zoe.png') });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('.sign-in button').textContent()).toBe('Sign in');
    await expect.poll(() => pass.textContent()).toContain('PASS ••••••');
    await expect.poll(() => retr.textContent()).toContain('RETR ••••••');
  });

  it("shows every password to the lab machine's own browser, the teacher", async () => {
    const base = await webApp(true);
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${base}/lab`);
    await expect
      .poll(() => page.locator('.rows .row.credentials').textContent())
      .toContain('PASS zoe-Secret1');
    await expect.poll(() => page.locator('.sign-in').textContent()).toContain('Teacher (on the lab machine)');
  });
});
