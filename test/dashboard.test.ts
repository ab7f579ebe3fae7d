import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TempLab, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import nodemailer from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from './apps.js';
import { CHROMIUM, hasChromium, type LabDashboard, openLabDashboard } from './browser.js';

/**
 * The /lab dashboard end to end: the real lab (`portlab up`, the supervisor) on free ports, the page
 * in headless Chromium, events from real HTTP requests and synthetic ones written with
 * @portlab/transcript into the lab's log folder, exactly as the mail, FTP and peer apps write them.
 */

if (!hasChromium) console.warn(`dashboard tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const transcriptModule = new URL('../packages/transcript/dist/index.js', import.meta.url).href;
const outputDir = fileURLToPath(new URL('./test-output/', import.meta.url));

let lab: TempLab;
let dashboard: LabDashboard | undefined;
let browser: Browser;
let page: Page;
let base: string;
let logDir: string;

function portlab(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLI, ...args], { env: lab.env }, (err, stdout, stderr) =>
      err ? reject(new Error(`portlab ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

const shot = (name: string) => page.screenshot({ path: path.join(outputDir, `${name}.png`), fullPage: true });
const row = (text: string | RegExp) => page.locator('.rows .row', { hasText: text });
const counts = async () => {
  const [, shown, kept] = /(\d+)\D+(\d+)/.exec((await page.locator('.counts').textContent()) ?? '') ?? [];
  return { shown: Number(shown), kept: Number(kept) };
};
// What the functions run in the page use (this package's TypeScript has no DOM library).
declare const document: {
  documentElement: { lang: string; classList: { contains(name: string): boolean } };
  activeElement: { id: string } | null;
};
declare function getComputedStyle(element: unknown): { backgroundColor: string; outlineStyle: string };
const BACKGROUND = (el: unknown) => getComputedStyle(el).backgroundColor;
const PROJECTOR = () => document.documentElement.classList.contains('projector');
const socket = (clientPort: number, serverPort: number) => ({
  remoteAddress: '127.0.0.1',
  remotePort: clientPort,
  localAddress: '127.0.0.1',
  localPort: serverPort,
});

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(outputDir, { recursive: true });
  dashboard = await openLabDashboard({
    viewport: { width: 1366, height: 800 },
    chromiumArgs: ['--disable-quic', '--disable-component-update', '--disable-sync'],
  });
  ({ lab, base, logDir, browser, page } = dashboard);
}, 120_000);

afterAll(async () => {
  await dashboard?.stop();
});

/** Each test starts from the whole stream, following its end, whatever the test before it left. */
async function resetTranscript(): Promise<void> {
  const clear = page.getByRole('button', { name: 'Clear filters' });
  if (await clear.isEnabled()) await clear.click();
  await page.getByRole('button', { name: 'Go to the latest' }).click();
}

describe.skipIf(!hasChromium)('the /lab dashboard in headless Chromium', () => {
  beforeEach(resetTranscript);

  it('shows the HTTP requests the test makes as C: and S: lines', async () => {
    const marker = `/healthz?from-test=${Date.now()}`;
    expect((await fetch(`${base}${marker}`)).status).toBe(200);
    await row(`GET ${marker} HTTP/1.1`).waitFor();
    await expect(row(`GET ${marker} HTTP/1.1`).getAttribute('class')).resolves.toMatch(/dir-C/);
    await expect(
      page.locator('.rows .row.dir-S', { hasText: 'HTTP/1.1 200 OK' }).count(),
    ).resolves.toBeGreaterThan(0);
    // A card per service of the lab, in the state /api/services gives (other apps may be mid-start).
    const services = (await (await fetch(`${base}/api/services`)).json()) as {
      name: string;
      listening: boolean;
    }[];
    await expect(page.locator('.card').count()).resolves.toBe(services.length);
    await page.locator('.card[data-service="http"][data-state="listening"]').waitFor();
    await shot('dashboard-laptop');
  });

  it("hides the page's own requests unless asked, and shows everyone else's", async () => {
    const marker = `/?from-test=${Date.now()}`;
    expect((await fetch(`${base}${marker}`)).status).toBe(200);
    await page.locator('#filter-service').selectOption('http');
    await row(`GET ${marker} HTTP/1.1`).waitFor();
    const hidden = (await counts()).shown;
    await page.locator('#show-own').check();
    // Loading /lab (its page, scripts, /api/…, the event stream) took many requests of its own.
    await waitFor(async () => (await counts()).shown > hidden + 10, {
      what: "the page's own requests shown",
    });
    const toTop = () =>
      page.locator('.rows').evaluate((el) => {
        el.scrollTop = 0;
      });
    // Scrolled to the top again until the row shows: a batch of events rendered before the view
    // saw the scroll (it follows the latest until then) takes it back down (CI, once under load).
    await waitFor(
      async () => {
        await toTop();
        return (
          (await row(/^.*GET \/lab HTTP\/1\.1/)
            .first()
            .isVisible()) || undefined
        );
      },
      { what: "the page's own GET /lab, at the top" },
    );
    await page.locator('#show-own').uncheck();
    await expect(counts().then((c) => c.shown)).resolves.toBe(hidden);
    await toTop();
    await expect(row(/GET \/(lab|api)\b/).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Go to the latest' }).click();
    await row(`GET ${marker} HTTP/1.1`).waitFor();
  });

  it('turns a card grey when its service stops, and back when it starts', async () => {
    const card = page.locator('.card[data-service="https"]');
    await expect(card.locator('.lab-port strong').textContent()).resolves.toBe(String(lab.ports.https));
    await portlab('stop', 'https');
    await page.locator('.card[data-service="https"][data-state="stopped"]').waitFor();
    const grey = await card.evaluate(BACKGROUND);
    expect(grey).toBe('rgb(226, 226, 226)');
    await shot('dashboard-https-stopped');
    await portlab('start', 'https');
    await page.locator('.card[data-service="https"][data-state="listening"]').waitFor();
    expect(await card.evaluate(BACKGROUND)).toBe('rgb(255, 255, 255)');
  });

  it('highlights credentials, decodes a base64 AUTH in clear, and marks the switch to TLS', async () => {
    const t = new Transcript('submission', lab.ports.submission, { logDir });
    const s = t.accepted(socket(50_001, lab.ports.submission));
    s.server('220 lab.test ESMTP portlab');
    s.client('EHLO laptop');
    s.server('250 AUTH PLAIN LOGIN');
    s.client(`AUTH PLAIN ${Buffer.from('\0alice\0wonderland').toString('base64')}`, ['credentials']);
    s.server('235 2.7.0 Authentication successful');
    s.client('STARTTLS');
    s.server('220 2.0.0 Ready to start TLS', ['tls']);
    s.client('EHLO laptop');
    t.flush();

    const auth = page.locator('.rows .row.credentials', { hasText: 'AUTH PLAIN' });
    await auth.waitFor();
    await auth.locator('button.decode').click();
    await expect(auth.locator('.decoded').textContent()).resolves.toBe(
      'in clear: user “alice”, password “wonderland”',
    );
    const switched = page.locator('.rows .row.tls-switch', { hasText: 'Ready to start TLS' });
    await expect(switched.locator('.tls-mark').isVisible()).resolves.toBe(true);
    // The line after the switch is marked as encrypted; the ones before it are not.
    await expect(row('EHLO laptop').last().locator('.lock').count()).resolves.toBe(1);
    await expect(row('EHLO laptop').first().locator('.lock').count()).resolves.toBe(0);

    // The keyboard does the same: select the line, Enter decodes it, s keeps only its session.
    await page.locator('#filter-service').selectOption('submission');
    await page.locator('.rows').focus();
    await page.keyboard.press('End');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowUp');
    await expect(page.locator('.details pre').textContent()).resolves.toMatch(/^C: AUTH PLAIN/);
    await page.keyboard.press('Enter');
    await expect(auth.locator('.decoded').count()).resolves.toBe(0); // toggled off again
    await page.keyboard.press('s');
    await expect(page.locator('#filter-session').inputValue()).resolves.toBe(s.id);
    await shot('dashboard-credentials-tls');
  });

  it('draws a mesh when peers both listen and connect (4 peer processes)', async () => {
    // Each peer is its own process, as a real peer is; 6 connections, each peer dials and is dialled.
    const ports = [46_881, 46_882, 46_883, 46_884];
    const links = [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
      [0, 2],
      [1, 3],
    ];
    const peer = (me: number) => `
      import { Transcript } from ${JSON.stringify(transcriptModule)};
      const ports = ${JSON.stringify(ports)};
      const t = new Transcript('peer', ports[${me}], { logDir: ${JSON.stringify(logDir)} });
      const end = (clientPort, serverPort) => ({ remoteAddress: '127.0.0.1', remotePort: clientPort, localAddress: '127.0.0.1', localPort: serverPort });
      for (const [from, to] of ${JSON.stringify(links)}) {
        const ephemeral = 41000 + 10 * from + to;
        if (from === ${me}) t.connected({ ...end(ports[to], ephemeral), remotePort: ports[to], localPort: ephemeral }).client('BitTorrent handshake');
        if (to === ${me}) t.accepted(end(ephemeral, ports[to])).server('BitTorrent handshake');
      }
      t.flush();`;
    await Promise.all(
      ports.map(
        (_, me) =>
          new Promise((resolve, reject) =>
            execFile(process.execPath, ['--input-type=module', '-e', peer(me)], (err) =>
              err ? reject(err) : resolve(null),
            ),
          ),
      ),
    );
    const graph = page.locator('svg.graph[data-peers="4"]');
    await graph.waitFor();
    await expect(page.locator('.shape').getAttribute('data-shape')).resolves.toBe('mesh');
    await expect(page.locator('svg.graph .node.process.peer').count()).resolves.toBe(4);
    await expect(page.locator('svg.graph .edge[data-port^="4688"]').count()).resolves.toBe(6);
    await page.locator('#connections').screenshot({ path: path.join(outputDir, 'dashboard-mesh.png') });
  });

  it('colours the pieces a web seed sent (BEP 19) and counts HTTP bytes against peer bytes', async () => {
    // A downloader's lines as packages/bittorrent writes them: 3 pieces from a peer, 5 from the web.
    const torrent = 'cd'.repeat(20);
    const web = 'web http://127.0.0.1:8080/updates/portlab-update-1.0.tar';
    const t = new Transcript('peer', 46_890, { logDir });
    const s = t.connected(socket(46_891, 46_890));
    s.client('handshake', [], {
      event: 'torrent',
      torrent,
      name: 'portlab-update-1.0.tar',
      length: 8 * 16_384,
      pieceLength: 16_384,
      pieces: 8,
      have: 0,
    });
    for (let i = 0; i < 8; i++) {
      const from = i < 3 ? '127.0.0.1:46891' : web;
      s.server(`piece ${i} from ${from}`, [], {
        event: 'piece',
        torrent,
        piece: i,
        from,
        bytes: 16_384,
        have: i + 1,
        pieces: 8,
      });
    }
    t.flush();
    const download = page.locator(`.download[data-torrent="${torrent}"]`);
    await download.locator(`.source-bytes[data-web="${5 * 16_384}"][data-peers="${3 * 16_384}"]`).waitFor();
    await expect(download.locator('.pieces .piece[data-piece="5"] rect').getAttribute('fill')).resolves.toBe(
      '#000000',
    );
    await expect(
      download.locator('.pieces .piece[data-piece="1"] rect').getAttribute('fill'),
    ).resolves.not.toBe('#000000');
    await expect(download.locator('.source-bytes').textContent()).resolves.toMatch(
      /by HTTP \(web seeds\): 81\.9 kB.*by peers: 49\.2 kB/,
    );
    await expect(download.locator('.legend-peers').textContent()).resolves.toContain(
      'web seed (HTTP, BEP 19)',
    );
    await download.screenshot({ path: path.join(outputDir, 'dashboard-web-seed.png') });
  });

  it('shows the SMTP dialogue of a mail sent with nodemailer, then the message in the mailbox', async () => {
    const subject = `Dashboard test ${Date.now()}`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: lab.ports.smtp,
      ignoreTLS: true,
    });
    const info = await transport.sendMail({
      from: 'alice@lab.test',
      to: 'bob@lab.test',
      subject,
      text: 'Sent by nodemailer, seen on the dashboard.',
    });
    expect(info.response).toMatch(/^250/);
    await row('MAIL FROM:<alice@lab.test>').first().waitFor();
    await row('RCPT TO:<bob@lab.test>').first().waitFor();
    await row(subject).first().waitFor(); // the message summarised in one line: its size and Subject
    await page.locator('#mail').getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#mail-user').selectOption('bob');
    await page
      .locator('#mail')
      .getByRole('button', { name: new RegExp(subject) })
      .click();
    await expect(page.locator('#mail pre.body').textContent()).resolves.toMatch(
      /Sent by nodemailer, seen on the dashboard\./,
    );
    await shot('dashboard-nodemailer');
  });

  it('shows a message and a file placed on disk in the standard layouts', async () => {
    const inbox = path.join(lab.dataDir, 'mail', 'alice');
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(path.join(inbox, d), { recursive: true });
    writeFileSync(
      path.join(inbox, 'new', '1738663200.M1P1.lab'),
      'From: bob@lab.test\r\nTo: alice@lab.test\r\nSubject: Lab 2\r\n\r\nSee you in room 12.\r\n',
    );
    mkdirSync(path.join(lab.dataDir, 'files', 'alice', 'public_html'), { recursive: true });
    writeFileSync(path.join(lab.dataDir, 'files', 'alice', 'notes.txt'), 'FTP uses port 21.\n');

    await page.locator('#mail').getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#mail-user').selectOption('alice');
    await page.locator('#mail').getByRole('button', { name: /Lab 2/ }).click();
    await expect(page.locator('#mail pre.body').textContent()).resolves.toBe('See you in room 12.\r\n');
    await page.locator('#mail').getByRole('tab', { name: 'Source' }).click();
    await expect(page.locator('#mail pre.raw').textContent()).resolves.toMatch(/^From: bob@lab.test/);

    await page.locator('#files').getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#files-user').selectOption('alice');
    await page.locator('#files').getByRole('button', { name: 'notes.txt' }).click();
    await expect(page.locator('#files pre.file').textContent()).resolves.toBe('FTP uses port 21.\n');
    await page.locator('#mail').getByRole('tab', { name: 'Message' }).click();
    await page
      .locator('.pair:has(#mail)')
      .screenshot({ path: path.join(outputDir, 'dashboard-mail-files.png') });
  });

  it('stays responsive with 10,000 events streamed: bounded rows in the DOM, bounded events kept', async () => {
    const t = new Transcript('pop3', lab.ports.pop3, { logDir });
    const s = t.accepted(socket(50_002, lab.ports.pop3));
    const heading = page.locator('h1');
    for (let i = 0; i < 10_000; i++) {
      s.server(`+OK flood line ${i}`);
      if (i % 1000 === 999) {
        t.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // In the middle of the flood, a click still does what it says.
      if (i === 5000) {
        await page.getByRole('button', { name: 'Passer en français' }).click();
        await expect(heading.textContent()).resolves.toMatch(/Tableau de bord/);
        await page.getByRole('button', { name: 'Switch to English' }).click();
      }
    }
    t.flush();
    await row('+OK flood line 9999').waitFor({ timeout: 60_000 });
    const { kept } = await counts();
    expect(kept).toBe(5000);
    expect(await page.locator('.rows .row').count()).toBeLessThan(60);
    await page.getByRole('button', { name: 'Projector mode' }).click();
    await expect(
      page.getByRole('button', { name: 'Projector mode' }).getAttribute('aria-pressed'),
    ).resolves.toBe('true');
    await page.getByRole('button', { name: 'Projector mode' }).click();
    await shot('dashboard-flood');
  });

  it('reconnects after the web app restarts and resumes the stream without losing an event', async () => {
    const t = new Transcript('imap', lab.ports.imap, { logDir });
    const s = t.accepted(socket(50_003, lab.ports.imap));
    const say = (what: string) => {
      for (let i = 0; i < 10; i++) s.server(`* OK ${what} ${i}`);
      t.flush();
    };
    say('before');
    await row('* OK before 9').waitFor();

    await portlab('stop', 'web');
    await page.locator('.status[data-state="reconnecting"]').waitFor();
    say('missed-a');
    say('missed-b');
    await portlab('start', 'web');
    await page.locator('.status[data-state="resumed"]').waitFor({ timeout: 60_000 });
    say('after');
    await row('* OK after 9').waitFor();

    await page.locator('#filter-session').selectOption(s.id);
    // The open event and 40 lines, each once: none lost while the web app was down, none twice.
    await waitFor(async () => (await counts()).shown === 41, {
      what: 'the 41 events of the session on the page',
    }).catch(async (err) => {
      throw new Error(`${err.message}; the page shows ${JSON.stringify(await counts())}`);
    });
    await page.locator('.rows').evaluate((el) => {
      el.scrollTop = 0;
    });
    await row('* OK missed-a 0').waitFor();
    await shot('dashboard-resumed');
  });

  it('has projector mode, language and keyboard shortcuts, remembered across reloads', async () => {
    await page.locator('body').press('p');
    await page.waitForFunction(PROJECTOR);
    await page.locator('body').press('l');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await page.reload();
    await page.locator('.status[data-state="live"]').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toMatch(/Tableau de bord du labo/);
    await expect(page.evaluate(PROJECTOR)).resolves.toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot('dashboard-projector-fr');

    // Number keys go to sections; Tab moves through controls with a visible outline.
    await page.locator('body').press('3');
    // The page moves the focus once it has drawn the section (a setTimeout in main.js): wait for it.
    await page.waitForFunction(() => document.activeElement?.id === 'transcript-title');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    expect(outline).toBe('solid');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('filter-service');
    await expect(page.locator('#keys').textContent()).resolves.toMatch(/mode projecteur/);
    // Keys typed in a form control are the control's: the shortcuts wait until focus leaves it.
    await page.keyboard.press('l');
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('fr');
    await page.locator('#keys-title').focus();
    await page.keyboard.press('p');
    await page.keyboard.press('l');
    await expect(page.locator('h1').textContent()).resolves.toMatch(/Lab dashboard/);
  });

  it("reaches the transcript from the page's keys through its commands: / focuses the filter, Escape clears it, f follows", async () => {
    await page.locator('#keys-title').focus();
    await page.keyboard.press('/');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('filter-service');
    await page.locator('#filter-service').selectOption('http');
    await page.locator('#keys-title').focus();
    await page.keyboard.press('Escape');
    await expect(page.locator('#filter-service').inputValue()).resolves.toBe('');
    // Scrolled to the top of every service's lines, the list stops following; f goes back to the newest.
    await page.locator('.rows').evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator('.follow-state').filter({ hasText: 'paused' }).waitFor();
    await page.locator('#keys-title').focus();
    await page.keyboard.press('f');
    await page.locator('.follow-state').filter({ hasText: 'following the latest lines' }).waitFor();
    const atBottom = await page
      .locator('.rows')
      .evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 1);
    expect(atBottom).toBe(true);
  });

  it('opens in French for a French browser', async () => {
    const context = await browser.newContext({ locale: 'fr-FR' });
    const fr = await context.newPage();
    await fr.goto(`${base}/lab`);
    await expect(fr.locator('h1').textContent()).resolves.toMatch(/Tableau de bord du labo/);
    await context.close();
  });
  it('shows the chain panel: the lab node’s blocks as cards, from genesis', async () => {
    // The chain app runs under `portlab up`; at the lab's difficulty nobody has mined yet here.
    const genesis = page.locator('#chain .chain-card[data-height="0"]');
    await genesis.waitFor();
    await expect(genesis.getAttribute('data-id')).resolves.toBe(
      '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
    );
    await expect(genesis.textContent()).resolves.toMatch(/hash\s*0f9188f13cb7…2206.*nonce\s*2/);
    await expect(page.locator('#chain .chain-rule').textContent()).resolves.toMatch(
      /28 (zero bits|bits à zéro)/,
    );
  });
});
