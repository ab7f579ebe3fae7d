import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TempLab } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, type LabDashboard, openLabDashboard } from './browser.js';

/**
 * The /lab dashboard on a projector (issue #14): one panel chosen to fill the screen, and kept;
 * connections named by client and port; downloads shown finished or stopped, never left going;
 * the FTP time measured from the command to the last byte. The real lab (`portlab up`) on free
 * ports, the page in headless Chromium, real clients (curl) and transcript lines written with
 * @portlab/transcript into the lab's log folder, as the peers write them.
 */

if (!hasChromium) console.warn(`projector tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const outputDir = fileURLToPath(new URL('./test-output/', import.meta.url));

let lab: TempLab;
let dashboard: LabDashboard | undefined;
let browser: Browser;
let page: Page;
let base: string;
let logDir: string;

// What the functions run in the page use (this package's TypeScript has no DOM library).
declare const document: { documentElement: { dataset: Record<string, string | undefined> } };
declare const location: { hash: string };
declare const window: { innerHeight: number };

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', ...args], (err, stdout, stderr) =>
      err ? reject(new Error(`curl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

async function openDashboard(p: Page, hash = ''): Promise<void> {
  await p.goto(`${base}/lab${hash}`);
  await p.locator('.status[data-state="live"]').waitFor();
}

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(outputDir, { recursive: true });
  dashboard = await openLabDashboard({ viewport: { width: 1280, height: 800 } });
  ({ lab, base, logDir, browser, page } = dashboard);
}, 120_000);

afterAll(async () => {
  await dashboard?.stop();
});

describe.skipIf(!hasChromium)('the /lab dashboard on a projector', () => {
  it('fills the screen with the panel the teacher chose, and keeps it across a reload', async () => {
    await page.locator('.panel-choice button[data-panel="transcript"]').click();
    await page.waitForFunction(() => document.documentElement.dataset.panel === 'transcript');
    expect(await page.evaluate(() => location.hash)).toBe('#panel=transcript');
    const fills = async () => {
      const height = await page.evaluate(() => window.innerHeight);
      const panel = await page.locator('#transcript').boundingBox();
      const rows = await page.locator('#transcript .rows').boundingBox();
      return { height, panel: panel!, rows: rows! };
    };
    const { height, panel, rows } = await fills();
    // The panel runs down to the bottom of the window; its list of lines takes most of it.
    expect(panel.y + panel.height).toBeGreaterThan(height - 40);
    expect(rows.height).toBeGreaterThan(height / 2);
    for (const other of ['#services', '#connections', '#swarm', '#mail', '#files'])
      await expect(page.locator(other).isVisible(), other).resolves.toBe(false);

    await page.screenshot({ path: path.join(outputDir, 'projector-transcript.png') });

    await page.reload();
    await page.locator('.status[data-state="live"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.panel)).toBe('transcript');
    await expect(page.locator('#services').isVisible()).resolves.toBe(false);
    expect((await fills()).rows.height).toBeGreaterThan(height / 2);

    // Without the address: the browser remembers (localStorage).
    await openDashboard(page);
    expect(await page.evaluate(() => document.documentElement.dataset.panel)).toBe('transcript');

    // A bookmark in another browser: the address alone chooses, even by another name of the panel.
    const other = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1024, height: 768 } });
    const projector = await other.newPage();
    await openDashboard(projector, '#panel=graph');
    expect(await projector.evaluate(() => document.documentElement.dataset.panel)).toBe('connections');
    await expect(projector.locator('#connections').isVisible()).resolves.toBe(true);
    await expect(projector.locator('#transcript').isVisible()).resolves.toBe(false);
    await expect(projector.locator('.panel-choice button[aria-pressed="true"]').textContent()).resolves.toBe(
      'Connexions',
    );
    await projector.screenshot({ path: path.join(outputDir, 'projector-graph-fr.png') });
    await other.close();

    // A number key shows another panel alone; 0 shows them all, and the address forgets the choice.
    await page.locator('body').press('6');
    await page.waitForFunction(() => document.documentElement.dataset.panel === 'swarm');
    await page.locator('body').press('0');
    await page.waitForFunction(() => document.documentElement.dataset.panel === undefined);
    expect(await page.evaluate(() => location.hash)).toBe('');
    for (const every of ['#services', '#connections', '#transcript', '#swarm'])
      await expect(page.locator(every).isVisible(), every).resolves.toBe(true);
  });

  it('names connections by client and port, not by session id', async () => {
    // A real client: curl names itself in its User-Agent.
    const marker = `/healthz?named=${Date.now()}`;
    await curl([`${base}${marker}`]);
    const curlRow = page.locator('.rows .row', { hasText: `GET ${marker}` });
    await curlRow.waitFor();
    await expect(curlRow.locator('.session').textContent()).resolves.toMatch(/^curl \d/);

    // An SMTP client names itself in EHLO; a POP3 client cannot: its address stays.
    const smtp = new Transcript('submission', lab.ports.submission, { logDir });
    const s = smtp.accepted({
      remoteAddress: '192.168.10.23',
      remotePort: 53_422,
      localAddress: '127.0.0.1',
      localPort: lab.ports.submission,
    });
    s.server('220 lab.test ESMTP portlab');
    s.client('EHLO laptop-zoe');
    const pop = new Transcript('pop3', lab.ports.pop3, { logDir });
    const p = pop.accepted({
      remoteAddress: '192.168.10.24',
      remotePort: 53_500,
      localAddress: '127.0.0.1',
      localPort: lab.ports.pop3,
    });
    p.client('CAPA');
    smtp.flush();
    pop.flush();
    const ehlo = page.locator('.rows .row', { hasText: 'EHLO laptop-zoe' });
    await ehlo.waitFor();
    await expect(ehlo.locator('.session').textContent()).resolves.toBe('laptop-zoe');
    const capa = page.locator('.rows .row', { hasText: 'CAPA' }).last();
    await expect(capa.locator('.session').textContent()).resolves.toBe('192.168.10.24:53500');
    // The connection filter lists them by name, and still filters by session.
    await expect(page.locator(`#filter-session option[value="${s.id}"]`).textContent()).resolves.toBe(
      `laptop-zoe (192.168.10.23:53422) → SUBMISSION ${lab.ports.submission}`,
    );
  });

  it('shows a finished download as finished, and one whose process ended at 1/611 as stopped', async () => {
    const pieces = 611;
    const torrent = (key: string, name: string) => ({
      event: 'torrent',
      torrent: key,
      name,
      length: pieces * 16_384,
      pieceLength: 16_384,
      pieces,
      have: 0,
    });
    const piece = (key: string, index: number, have: number) => ({
      event: 'piece',
      torrent: key,
      piece: index,
      from: '127.0.0.1:46890',
      bytes: 16_384,
      have,
      pieces,
    });
    const dial = (t: Transcript, local: number) =>
      t.connected({
        localAddress: '127.0.0.1',
        localPort: local,
        remoteAddress: '127.0.0.1',
        remotePort: 46_890,
      });

    const finished = new Transcript('peer', 46_891, { logDir, node: '127.0.0.1:46891' });
    const a = dial(finished, 42_001);
    a.client('handshake', [], torrent('aa'.repeat(20), 'finished.bin'));
    for (let i = 0; i < pieces; i++) a.server(`piece ${i}`, [], piece('aa'.repeat(20), i, i + 1));
    a.close();
    const killed = new Transcript('peer', 46_892, { logDir, node: '127.0.0.1:46892' });
    const b = dial(killed, 42_002);
    b.client('handshake', [], torrent('bb'.repeat(20), 'killed.bin'));
    b.server('piece 0', [], piece('bb'.repeat(20), 0, 1));
    b.close(); // kill %1: the process is gone, with 1 piece of 611
    finished.flush();

    await page.locator('.panel-choice button[data-panel="swarm"]').click();
    const done = page.locator(`.download[data-torrent="${'aa'.repeat(20)}"]`);
    await done.locator('.badge.done').waitFor();
    await expect(done.getAttribute('data-state')).resolves.toBe('done');
    await expect(done.locator('.progress').textContent()).resolves.toMatch(/^complete in \d+\.\d s$/);
    const stopped = page.locator(`.download[data-torrent="${'bb'.repeat(20)}"]`);
    await stopped.locator('.badge.stopped').waitFor();
    await expect(stopped.locator('.progress').textContent()).resolves.toBe(
      'stopped at 1/611 pieces: its connections closed',
    );
    // Nothing is shown as going.
    await expect(page.locator('.download[data-state="live"]').count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(outputDir, 'projector-swarm.png') });
  });

  it('times an FTP download from the command to the last byte, as the lab 05 demo does', async () => {
    // Larger than the loopback's socket buffers at this rate: the server's data connection closes
    // while the client still has seconds of bytes to read (the gap the chart used to show).
    const file = path.join(lab.dir, 'ftp-timing.bin');
    writeFileSync(file, randomBytes(3_000_000));
    await curl(['-T', file, `ftp://alice:wonderland@127.0.0.1:${lab.ports.ftp}/`]);
    const timing = await curl([
      '--limit-rate',
      '1M',
      '-o',
      path.join(lab.dir, 'ftp-timing.copy'),
      '-w',
      '%{time_pretransfer} %{time_total}',
      `ftp://alice:wonderland@127.0.0.1:${lab.ports.ftp}/ftp-timing.bin`,
    ]);
    const row = page.locator('.chart tr[data-kind="ftp"]');
    // curl said QUIT after the last byte: the time is the client's, not the server's lower bound.
    await page.locator('.chart tr[data-kind="ftp"][data-confirmed="true"]').waitFor();
    await expect(row.locator('.what').textContent()).resolves.toMatch(
      /^ftp-timing\.bin \(3\.0 MB\), 1 source/,
    );
    // The span in the server's transcript: its RETR line to the client's next word (QUIT). Not the
    // data connection's own time, which ends as soon as the last bytes are in the socket buffers.
    const lines = readFileSync(path.join(logDir, 'ftp.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            ts: string;
            session?: string;
            line?: string;
            data?: { event?: string; ms?: number };
          },
      );
    const retr = lines.findLast((e) => e.line === 'RETR ftp-timing.bin')!;
    const session = lines.filter((e) => e.session === retr.session);
    const quit = session.find((e) => e.line === 'QUIT')!;
    const dataClose = session.find(
      (e) => e.data?.event === 'data-close' && lines.indexOf(e) > lines.indexOf(retr),
    )!;
    const span = Date.parse(quit.ts) - Date.parse(retr.ts);
    await expect(row.getAttribute('data-ms')).resolves.toBe(String(span));
    const [pretransfer, total] = timing.split(' ').map(Number);
    // For the record, not asserted (measures of speed): the server's own figure, and curl's.
    console.info(
      `FTP 3 MB, curl --limit-rate 1M: chart ${span} ms; the server's data connection ${dataClose.data!.ms} ms; curl from the transfer to its end ${Math.round((total! - pretransfer!) * 1000)} ms`,
    );
  });
});
