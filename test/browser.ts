// Headless Chromium as the page tests (dashboard, projector, progress, class board) drive it, and the
// real lab with its /lab dashboard open in it (dashboard and projector tests).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type TempLab, tempLab } from '@portlab/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningLab, startLab } from './apps.js';

/** Debian's chromium package; without it the page tests are skipped, each file saying so. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/**
 * Launches it headless: no sandbox (a container or CI runner has no user namespaces), no GPU, no
 * first-run pages nor background requests (the test's only traffic is the lab's). `extraArgs` adds
 * switches for a test that wants fewer moving parts still.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      ...extraArgs,
    ],
  });
}

/** A real lab with its /lab dashboard open in headless Chromium (`openLabDashboard`). */
export interface LabDashboard {
  lab: TempLab;
  up: RunningLab;
  /** http://127.0.0.1:<the lab's HTTP port> */
  base: string;
  /** The lab's log folder, where a test writes transcript lines as the apps do. */
  logDir: string;
  browser: Browser;
  /** An English page on /lab, its event stream live. */
  page: Page;
  /** Closes the browser, stops the lab and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * The real lab (`portlab up`, the supervisor) in a temp folder on free ports, and the /lab dashboard
 * open in headless Chromium (en-GB, `viewport`) once its event stream is live. A page error is
 * printed: it is the first thing to read when a locator times out.
 */
export async function openLabDashboard(opts: {
  viewport: { width: number; height: number };
  chromiumArgs?: string[];
}): Promise<LabDashboard> {
  const lab = await tempLab();
  let up: RunningLab | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await up?.stop();
    lab.cleanup();
  };
  try {
    up = await startLab(lab);
    const base = `http://127.0.0.1:${lab.ports.http}`;
    browser = await launchChromium(opts.chromiumArgs);
    const context = await browser.newContext({ locale: 'en-GB', viewport: opts.viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a locator that never shows up fails with its name, before the test's timeout
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(`${base}/lab`);
    await page.locator('.status[data-state="live"]').waitFor();
    return { lab, up, base, logDir: path.join(lab.dataDir, 'log'), browser, page, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
