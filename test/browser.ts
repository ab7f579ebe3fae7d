// Headless Chromium as the page tests (dashboard, projector, progress, class board) drive it.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

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
